import ArgumentParser
import Foundation
import TenantServices

/// Which store to open and in which time zone calendar dates fall: the options `serve`, `view` and
/// `import` share, checked before any command runs.
struct StoreOptions: ParsableArguments {
    @Option(help: "The store: a directory (created on first use), or a postgresql:// URL several servers can share.")
    var store = "tenant-services-data"
    @Option(help: "Time zone for every calendar date, an IANA name.") var timeZone = "Europe/Zurich"

    func validate() throws { _ = try calendar() }

    /// The business calendar in `--time-zone`.
    func calendar() throws -> BusinessCalendar {
        guard let zone = TimeZone(identifier: timeZone) else {
            throw ValidationError("unknown time zone '\(timeZone)'; use an IANA name such as Europe/Zurich")
        }
        return BusinessCalendar(timeZone: zone)
    }

    /// The store as shown in messages and logs: a URL without its password.
    var storeName: String { displayName(ofStore: store) }
}
