// SQLite 3, for the store benchmark's side-by-side comparison only.
#include <sqlite3.h>
