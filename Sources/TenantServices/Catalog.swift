public import Foundation

/// The service catalog: the services that can be booked, their rules and prices.
///
/// The catalog is data. ``Catalog/standard`` is the default shipped with the library;
/// ``Catalog/init(json:)`` loads a replacement. Loading checks every rule and builds the
/// dependency graph, so a loaded catalog is always consistent.
public struct Catalog: Sendable {
    /// One bookable service.
    public struct Service: Codable, Sendable, Equatable {
        /// Whether a service is the mandatory base, defines a mode, or is an option.
        public enum Kind: String, Codable, Sendable {
            case base, mode, option
        }

        /// Which users of a domain a service counts for billing.
        public enum Counting: String, Codable, Sendable {
            case allActive, signOnly, signEncrypt, signing
        }

        /// The DNS record a service needs before it can go live.
        public struct TaskTemplate: Codable, Sendable, Equatable {
            public var type: String
            /// Record name; `{domain}` and `{dashed}` are replaced. Default: the domain.
            public var name: String?
            public var value: String
        }

        public var code: String
        public var name: [String: String]
        public var kind: Kind
        /// For mode services: the mode they give the domain.
        public var mode: IntegrationMode?
        public var requires: [String]
        public var requiresAny: [String]
        public var excludes: [String]
        /// Modes this service may run in; nil means any.
        public var modes: [IntegrationMode]?
        /// Regions this service may run in; nil means any.
        public var regions: [Region]?
        public var counts: Counting
        /// Monthly price per counted user, in minor units, by currency.
        public var prices: [String: Int]
        public var task: TaskTemplate?

        private enum CodingKeys: String, CodingKey {
            case code, name, kind, mode, requires, requiresAny, excludes, modes, regions, counts, prices, task
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            code = try c.decode(String.self, forKey: .code)
            name = try c.decode([String: String].self, forKey: .name)
            kind = try c.decode(Kind.self, forKey: .kind)
            mode = try c.decodeIfPresent(IntegrationMode.self, forKey: .mode)
            requires = try c.decodeIfPresent([String].self, forKey: .requires) ?? []
            requiresAny = try c.decodeIfPresent([String].self, forKey: .requiresAny) ?? []
            excludes = try c.decodeIfPresent([String].self, forKey: .excludes) ?? []
            modes = try c.decodeIfPresent([IntegrationMode].self, forKey: .modes)
            regions = try c.decodeIfPresent([Region].self, forKey: .regions)
            counts = try c.decode(Counting.self, forKey: .counts)
            prices = try c.decode([String: Int].self, forKey: .prices)
            task = try c.decodeIfPresent(TaskTemplate.self, forKey: .task)
        }

        /// The display name in a locale (`en` or `de`), falling back to English.
        public func name(locale: String) -> String { name[locale] ?? name["en"] ?? code }

        /// Whether a user with this protection is counted by this service.
        public func counts(_ user: User) -> Bool { counts.includes(user) }
    }

    /// A catalog that breaks a rule; names the offending entry.
    public struct LoadError: Error, Sendable, CustomStringConvertible, Equatable {
        public var entry: String?
        public var message: String
        public var description: String { entry.map { "catalog entry '\($0)': \(message)" } ?? "catalog: \(message)" }
    }

    /// Services in catalog order.
    public let services: [Service]
    public let currencies: [String]
    /// Free-mail domains; an entry `gmx.*` matches any last label.
    public let freeMailDomains: [String]
    private let index: [String: Int]
    /// Service codes ordered so that every service comes after what it requires.
    public let topologicalOrder: [String]
    /// The billing terms (code, counting, prices) of every service, in catalog order.
    public let priceList: PriceList

    /// The base service every domain has.
    public var baseService: Service { services.first { $0.kind == .base }! }

    /// Looks up a service by code.
    public subscript(code: String) -> Service? { index[code].map { services[$0] } }

    /// The mode service for a mode.
    public func modeService(for mode: IntegrationMode) -> Service? {
        services.first { $0.kind == .mode && $0.mode == mode }
    }

    private struct File: Decodable {
        var currencies: [String]
        var freeMailDomains: [String]
        var services: [Service]
    }

    /// Loads and checks a catalog from JSON.
    public init(json data: Data) throws(LoadError) {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch {
            throw LoadError(entry: nil, message: "not a valid catalog document: \(error)")
        }
        try self.init(services: file.services, currencies: file.currencies, freeMailDomains: file.freeMailDomains)
    }

    init(services: [Service], currencies: [String], freeMailDomains: [String]) throws(LoadError) {
        var index: [String: Int] = [:]
        for (i, s) in services.enumerated() {
            guard index[s.code] == nil else { throw LoadError(entry: s.code, message: "the code is defined twice") }
            index[s.code] = i
        }
        let bases = services.filter { $0.kind == .base }
        guard bases.count == 1 else {
            throw LoadError(entry: nil, message: "exactly one service of kind 'base' is needed, found \(bases.count)")
        }
        for mode in IntegrationMode.allCases {
            let defining = services.filter { $0.kind == .mode && $0.mode == mode }
            guard defining.count == 1 else {
                throw LoadError(
                    entry: nil,
                    message: "exactly one service must define mode '\(mode.rawValue)', found \(defining.count)")
            }
        }
        for s in services {
            for ref in s.requires + s.requiresAny + s.excludes where index[ref] == nil {
                throw LoadError(entry: s.code, message: "refers to unknown service code '\(ref)'")
            }
            if s.kind == .mode && s.mode == nil {
                throw LoadError(entry: s.code, message: "a service of kind 'mode' must name its 'mode'")
            }
            if s.kind != .mode && s.mode != nil {
                throw LoadError(entry: s.code, message: "only services of kind 'mode' may name a 'mode'")
            }
            for currency in currencies where s.prices[currency] == nil {
                throw LoadError(entry: s.code, message: "has no price in \(currency)")
            }
            if let bad = s.prices.first(where: { $0.value < 0 }) {
                throw LoadError(entry: s.code, message: "price in \(bad.key) is negative")
            }
            if s.requires.contains(s.code) || s.requiresAny.contains(s.code) || s.excludes.contains(s.code) {
                throw LoadError(entry: s.code, message: "refers to itself")
            }
        }
        // Topological order over requires + requiresAny edges; a cycle names one of its members.
        var order: [String] = []
        var state: [String: Int] = [:]  // 1 = visiting, 2 = done
        func visit(_ code: String, path: [String]) throws(LoadError) {
            if state[code] == 2 { return }
            if state[code] == 1 {
                let cycle = path.drop { $0 != code } + [code]
                throw LoadError(entry: code, message: "dependency cycle: \(cycle.joined(separator: " → "))")
            }
            state[code] = 1
            let s = services[index[code]!]
            for dep in s.requires + s.requiresAny { try visit(dep, path: path + [code]) }
            state[code] = 2
            order.append(code)
        }
        for s in services { try visit(s.code, path: []) }
        self.services = services
        self.currencies = currencies
        self.freeMailDomains = freeMailDomains.map { $0.lowercased() }
        self.index = index
        self.topologicalOrder = order
        self.priceList = PriceList(
            services: services.map { PriceList.Entry(code: $0.code, counts: $0.counts, prices: $0.prices) })
    }

    /// The default catalog (the base, mode and option services with their rules and sample list
    /// prices), shipped as a resource of this library.
    public static let standard: Catalog = {
        guard let url = Bundle.module.url(forResource: "catalog", withExtension: "json"),
            let data = try? Data(contentsOf: url)
        else { fatalError("the default catalog resource is missing from the TenantServices bundle") }
        do {
            return try Catalog(json: data)
        } catch {
            fatalError("the shipped default catalog is invalid: \(error)")
        }
    }()

    /// Whether a (normalized) domain name is on the free-mail list.
    public func isFreeMail(_ name: String) -> Bool {
        freeMailDomains.contains { pattern in
            if pattern.hasSuffix(".*") {
                let stem = pattern.dropLast(2)
                guard name.hasPrefix(stem + ".") else { return false }
                let rest = name.dropFirst(stem.count + 1)
                return !rest.isEmpty && !rest.contains(".")
            }
            return name == pattern
        }
    }
}
