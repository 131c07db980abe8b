// GNU libidn2 (IDNA 2008 and UTS #46), Debian's libidn2-dev.
#include <idn2.h>
