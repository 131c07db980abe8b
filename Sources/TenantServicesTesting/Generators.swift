public import PropertyBased
public import TenantServices

/// Generators for `swift-property-based`: names, service sets, personas and operation sequences.
///
/// Every generator is built on integers, so shrinking works on those integers and every shrunk
/// value is still a value of the same kind (a shrunk operation sequence is still a sequence of
/// valid steps).
public enum Generators {
    /// What kind of domain names to generate.
    public enum DomainNameKind: Sendable, CaseIterable {
        /// Host names the portal accepts.
        case valid
        /// Strings the portal refuses as host names.
        case invalid
        /// Free-mail domains of the catalog (refused).
        case freeMail
        /// Internationalized names (accepted, stored as punycode).
        case idn
    }

    static let invalidShapes = [
        "", "localhost", "a..b", "-x.ch", "x-.ch", "x y.ch", "x.c", "x.123", "ab--cd.ch", "x_y.ch", "@x.ch", "😀.ch",
    ]
    static let freeMail = [
        "gmail.com", "outlook.com", "hotmail.com", "gmx.ch", "gmx.net", "gmx.de", "bluewin.ch", "icloud.com",
    ]
    static let idnStems = ["bücher", "müller", "zürich", "straße", "crème", "κόσμος", "例え"]
    static let tlds = ["ch", "li", "de", "com", "swiss"]

    /// Domain names of a kind.
    public static func domainName(_ kind: DomainNameKind) -> Generator<String, some SendableSequenceType> {
        Gen.int(in: 0...9_999_999).map { n in
            switch kind {
            case .valid: "d\(n % 100_000)-\(n / 100_000).\(tlds[n % tlds.count])"
            case .invalid: invalidShapes[n % invalidShapes.count].replacingFirst("x", with: "x\(n % 97)")
            case .freeMail: freeMail[n % freeMail.count]
            case .idn: "\(idnStems[n % idnStems.count])\(n % 1000).\(tlds[n % tlds.count])"
            }
        }
    }

    /// Option sets for a guided domain of a mode in a region: consistent ones (`valid: true`, the
    /// full check passes) or ones that can never become valid.
    public static func serviceSet(
        valid: Bool, mode: IntegrationMode, region: Region = .CH, catalog: Catalog = .standard
    )
        -> Generator<[String], some SendableSequenceType>
    {
        let sets = optionSets(valid: valid, mode: mode, region: region, catalog: catalog)
        precondition(!sets.isEmpty, "no option set of that kind")
        return Gen.int(in: 0...(sets.count - 1)).map { sets[$0] }
    }

    static func optionSets(valid: Bool, mode: IntegrationMode, region: Region, catalog: Catalog) -> [[String]] {
        let options = catalog.services.filter { $0.kind == .option }.map(\.code)
        let base = [catalog.baseService.code, catalog.modeService(for: mode)!.code]
        return (0..<(1 << options.count)).map { mask in
            options.indices.filter { mask & (1 << $0) != 0 }.map { options[$0] }
        }
        .filter { set in
            let problems = catalog.consistencyViolations(of: base + set, region: region)
            return valid ? problems.isEmpty : problems.contains { $0.rule.isPermanent }
        }
    }

    /// Tenants to create: names, contacts and addresses in several countries (CH and LI give
    /// region CH and CHF, the others DE and EUR).
    public static var tenant: Generator<TenantCreate, some SendableSequenceType> {
        Gen.int(in: 0...9_999_999).map { n in
            let countries = ["CH", "LI", "DE", "AT", "FR", "IT"]
            return TenantCreate(
                name: "Kunde \(n % 10_000) AG",
                contact: Contact(
                    email: "it\(n % 97)@kunde\(n % 10_000).example", phone: n % 3 == 0 ? nil : "+41 44 \(n % 1000)"),
                address: Address(
                    street: "Weg \(n % 200)", postalCode: "\(1000 + n % 8999)", city: "Ort \(n % 50)",
                    country: countries[n % countries.count]),
                invoiceReference: n % 2 == 0 ? nil : "PO-\(n)")
        }
    }

    /// Any persona.
    public static var persona: Generator<Persona, some SendableSequenceType> {
        Gen.int(in: 0...(Persona.allCases.count - 1)).map { Persona.allCases[$0] }
    }

    /// Users of a domain: addresses in the domain, every protection, mostly active.
    public static func users(of domain: String, count: ClosedRange<Int> = 1...8)
        -> Generator<[UsersImport.Entry], some SendableSequenceType>
    {
        Gen.int(in: 0...999).array(of: count).map { seeds in
            seeds.map {
                UsersImport.Entry(
                    address: "u\($0 % 50)@\(domain)", protection: Protection.allCases[$0 % 3], active: $0 % 7 != 0)
            }
        }
    }

    /// Sequences of operation steps (each step: an operation by an actor), by default weighted
    /// toward realistic workflows (ordering, confirming, deploying, completing tasks, users,
    /// cancellations, clock moves across month ends); `.cancellation` weights toward cancel,
    /// uncancel, tasks, clock moves past end dates and ticks.
    public static func operations(count: ClosedRange<Int> = 1...40, mix: OperationStep.Mix = .workflow) -> Generator<
        [OperationStep], some SendableSequenceType
    > {
        Gen.int(in: 0...Int(Int32.max)).array(of: count).map { $0.map { OperationStep(seed: $0, mix: mix) } }
    }
}

extension String {
    func replacingFirst(_ target: Character, with replacement: String) -> String {
        guard let i = firstIndex(of: target) else { return self }
        return String(self[..<i]) + replacement + String(self[index(after: i)...])
    }
}
