import Foundation
import OrderedCollections

/// Creates or updates users of a domain by address (within one call the last entry wins;
/// `active` defaults to true, also on update).
public struct UsersImport: PortalRequest, Executable, Equatable {
    public static let method = "users.import"
    static let isMutating = true

    /// One user to create or update.
    public struct Entry: Codable, Sendable, Equatable {
        public var address: String
        public var protection: Protection
        public var active: Bool?

        public init(address: String, protection: Protection, active: Bool? = nil) {
            self.address = address
            self.protection = protection
            self.active = active
        }
    }

    public var domainId: String
    public var users: [Entry]
    public var expectedVersion: Int?

    public init(domainId: String, users: [Entry], expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.users = users
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var (domain, tenant) = try tx.domain(domainId, for: .manageUsers, expectedVersion: expectedVersion)
        let before = domain
        for entry in users {
            let address = try mailbox(entry.address, in: domain)
            let user = User(address: address, protection: entry.protection, active: entry.active ?? true)
            if let i = domain.users.firstIndex(where: { $0.address == address }) {
                domain.users[i] = user
            } else {
                domain.users.append(user)
            }
        }
        if domain != before {
            tx.advance(&domain)
            tx.save(domain, of: tenant, summary: "imported \(users.count) user(s) into \(domain.name)")
        }
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// Removes users of a domain by address, normalized exactly as `users.import` stores them;
/// unknown addresses (also those that are no address of this domain) are ignored.
public struct UsersRemove: PortalRequest, Executable, Equatable {
    public static let method = "users.remove"
    static let isMutating = true
    public var domainId: String
    public var addresses: [String]
    public var expectedVersion: Int?

    public init(domainId: String, addresses: [String], expectedVersion: Int? = nil) {
        self.domainId = domainId
        self.addresses = addresses
        self.expectedVersion = expectedVersion
    }

    public typealias Response = DomainAdd.Response

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        var (domain, tenant) = try tx.domain(domainId, for: .manageUsers, expectedVersion: expectedVersion)
        let remove = Set(addresses.compactMap { try? mailbox($0, in: domain) })
        let count = domain.users.count
        domain.users.removeAll { remove.contains($0.address) }
        if domain.users.count != count {
            tx.save(domain, of: tenant, summary: "removed \(count - domain.users.count) user(s) from \(domain.name)")
        }
        return Response(domain: tx.view(of: tx.state.domains[domain.id]!))
    }
}

/// The users of a domain, by address order of creation.
public struct UsersList: PortalRequest, Executable, Equatable {
    public static let method = "users.list"
    static let isMutating = false
    public var domainId: String
    public var limit: Int?
    public var cursor: String?

    public init(domainId: String, limit: Int? = nil, cursor: String? = nil) {
        self.domainId = domainId
        self.limit = limit
        self.cursor = cursor
    }

    /// One page of users.
    public struct Response: Codable, Sendable, Equatable {
        public var users: [User]
        public var nextCursor: String?
    }

    func execute(in tx: inout Transaction) throws(PortalError) -> Response {
        let (domain, _) = try tx.domain(domainId)
        if !tx.access.allows(.manageUsers) { try tx.require(.see) }
        let page = try Page(
            domain.users.sorted { $0.address < $1.address }, key: \.address, limit: limit, cursor: cursor)
        return Response(users: page.items, nextCursor: page.nextCursor)
    }
}

/// The stored form of a mailbox address of this domain, else `invalid-domain`: the one
/// normalization of addresses, for `users.import` and `users.remove` alike. The local part is
/// trimmed, lower-cased and composed (NFC); the domain part goes through ``DomainName/normalize(_:)``
/// (UTS #46 and IDNA 2008), so `Anna@MÜNCHEN.de` and `anna@xn--mnchen-3ya.de` are one address.
private func mailbox(_ raw: String, in domain: Domain) throws(PortalError) -> String {
    let parts = raw.trimming(.spaces).split(separator: "@", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, !parts[0].contains(where: { $0 == " " || $0 == "\"" }),
        !parts[0].unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
    else {
        throw PortalError(.invalidDomain, "'\(raw)' is not a mailbox address like anna@\(domain.name)")
    }
    // A stored name is its own normal form, so the common spelling needs no IDNA processing.
    let host = parts[1] == domain.name ? domain.name : try? DomainName.normalize(String(parts[1]))
    guard host == domain.name else {
        throw PortalError(.invalidDomain, "'\(raw)' is not an address of domain \(domain.name)")
    }
    return parts[0].lowercased().precomposedStringWithCanonicalMapping + "@" + domain.name
}
