/// A consistency rule of a domain's live services; each violation names its rule, the services
/// involved and how to fix it.
public enum Rule: String, Codable, Sendable, CaseIterable {
    case missingBase = "missing-base"
    case missingMode = "missing-mode"
    case requires
    case requiresAny = "requires-any"
    case excludes
    case mode
    case region

    /// Rules that no later booking can repair; `service.add` refuses them at once.
    public var isPermanent: Bool { [.excludes, .mode, .region].contains(self) }
}

/// One violated rule in a consistency report.
public struct Violation: Codable, Sendable, Equatable, Hashable {
    public var rule: Rule
    /// The service codes involved.
    public var services: [String]
    /// What is wrong and how to fix it.
    public var message: String
}

/// One violated rule before its message is written: what every check computes, so that reports,
/// refusals, `service.available` and `actions` all come from the same rules.
struct Problem: Sendable, Hashable {
    var rule: Rule
    /// The service codes involved (for `mode` and `region`: the misplaced service).
    var services: [String]
    /// For `mode`: the mode of the domain that the service cannot run in.
    var mode: IntegrationMode?
}

extension Catalog {
    /// The mode a set of live service codes gives a domain: nil with no mode service or with both.
    func mode(of codes: some Collection<String>) -> IntegrationMode? {
        let modes = Set(codes.compactMap { self[$0]?.mode })
        return modes.count == 1 ? modes.first : nil
    }

    /// Every violated rule for a domain whose live services have these codes: a report of
    /// every violation, not only the first.
    public func consistencyViolations(of codes: [String], region: Region) -> [Violation] {
        violations(of: codes, region: region)
    }

    /// Every violated rule for a domain whose live services have these codes.
    func violations(of codes: [String], region: Region) -> [Violation] {
        problems(of: codes, region: region).map { violation($0, region: region) }
    }

    /// Every violated rule for these live codes, without messages: each rule is judged on its
    /// own, so one service can break several (a missing SC-SERVICE is `missing-base` and, for each
    /// service requiring it, `requires`; an excluded service of the wrong mode is both).
    func problems(of codes: [String], region: Region) -> [Problem] {
        let live = Set(codes)
        let ordered = services.indices.filter { live.contains(services[$0].code) }
        var found: [Problem] = []
        let base = baseService
        if !live.contains(base.code) {
            found.append(Problem(rule: .missingBase, services: [base.code]))
        }
        let modeServices = services.filter { $0.kind == .mode }
        if !modeServices.contains(where: { live.contains($0.code) }) {
            found.append(Problem(rule: .missingMode, services: modeServices.map(\.code)))
        }
        for i in ordered {
            for dep in services[i].requires where !live.contains(dep) {
                found.append(Problem(rule: .requires, services: [services[i].code, dep]))
            }
            let requiresAny = services[i].requiresAny
            if !requiresAny.isEmpty && !requiresAny.contains(where: live.contains) {
                found.append(Problem(rule: .requiresAny, services: [services[i].code] + requiresAny))
            }
        }
        found += permanentProblems(of: ordered, live: live, region: region)
        return found
    }

    /// The violations no later booking can repair: exclusions, wrong mode, wrong region.
    func permanentViolations(of codes: [String], region: Region) -> [Violation] {
        permanentProblems(of: codes, region: region).map { violation($0, region: region) }
    }

    /// The problems no later booking can repair, without messages.
    func permanentProblems(of codes: some Collection<String>, region: Region) -> [Problem] {
        let live = Set(codes)
        return permanentProblems(
            of: services.indices.filter { live.contains(services[$0].code) }, live: live, region: region)
    }

    /// Whether these live codes break no rule: whether ``problems(of:region:)`` finds none,
    /// without building them (every `actions` list of a domain with ordered services asks).
    func isConsistent(_ codes: [String], region: Region) -> Bool {
        guard codes.contains(baseService.code) else { return false }
        guard services.indices.contains(where: { services[$0].kind == .mode && codes.contains(services[$0].code) })
        else { return false }
        for i in services.indices where codes.contains(services[i].code) {
            if !services[i].requires.allSatisfy(codes.contains) { return false }
            if !services[i].requiresAny.isEmpty && !services[i].requiresAny.contains(where: codes.contains) {
                return false
            }
        }
        return !breaksPermanentRule(codes, region: region)
    }

    /// Whether these live codes break a rule no later booking can repair: whether
    /// ``permanentProblems(of:region:)`` finds any, without building them (every `actions` list
    /// asks once per catalog service).
    func breaksPermanentRule(_ codes: [String], region: Region) -> Bool {
        var modes: [IntegrationMode] = []
        for i in services.indices where codes.contains(services[i].code) {
            if let mode = services[i].mode { modes.append(mode) }
        }
        for i in services.indices where codes.contains(services[i].code) {
            if services[i].excludes.contains(where: codes.contains) { return true }
            if let allowed = services[i].modes, modes.contains(where: { !allowed.contains($0) }) { return true }
            if let regions = services[i].regions, !regions.contains(region) { return true }
        }
        return false
    }

    /// `ordered` holds the positions in `services` of the live services, in catalog order. The
    /// services are read in place: every `actions` list asks this once per catalog service, and
    /// a copy of a service costs a retain and a release per member.
    private func permanentProblems(of ordered: [Int], live: Set<String>, region: Region) -> [Problem] {
        var found: [Problem] = []
        var reported: Set<Set<String>> = []
        for i in ordered {
            let code = services[i].code
            for other in services[i].excludes where live.contains(other) && reported.insert([code, other]).inserted {
                found.append(Problem(rule: .excludes, services: [code, other]))
            }
        }
        // Every mode a mode service gives the domain counts, also when two of them exclude each other.
        let domainModes = services.indices.compactMap { live.contains(services[$0].code) ? services[$0].mode : nil }
        for i in ordered {
            if let modes = services[i].modes, let wrong = domainModes.first(where: { !modes.contains($0) }) {
                found.append(Problem(rule: .mode, services: [services[i].code], mode: wrong))
            }
            if let regions = services[i].regions, !regions.contains(region) {
                found.append(Problem(rule: .region, services: [services[i].code]))
            }
        }
        return found
    }

    /// The problem with a message saying what is wrong and how to fix it.
    func violation(_ problem: Problem, region: Region) -> Violation {
        let services = problem.services
        let code = services[0]
        let message: String
        switch problem.rule {
        case .missingBase:
            message = "The domain has no \(code) (\(baseService.name(locale: "en"))); add it with service.add."
        case .missingMode:
            let choices = services.compactMap { self[$0] }.map { "\($0.code) for \($0.mode!.rawValue) mode" }
                .joined(separator: " or ")
            message = "The domain has no mode service; add \(choices)."
        case .requires:
            message = "\(code) requires \(services[1]); add \(services[1]) or cancel \(code)."
        case .requiresAny:
            let list = services.dropFirst().joined(separator: ", ")
            message = "\(code) requires one of \(list); add one of them or cancel \(code)."
        case .excludes:
            message = "\(code) and \(services[1]) exclude each other; keep only one of them."
        case .mode:
            let allowed = (self[code]?.modes ?? []).map(\.rawValue).joined(separator: " or ")
            let mode = problem.mode?.rawValue ?? "another"
            message =
                "\(code) runs only in \(allowed) mode, but the domain is in \(mode) mode; do not book \(code) on this domain."
        case .region:
            let allowed = (self[code]?.regions ?? []).map(\.rawValue).joined(separator: ", ")
            message =
                "\(code) is available only in region \(allowed), but the domain is in region \(region.rawValue); do not book \(code) on this domain."
        }
        return Violation(rule: problem.rule, services: services, message: message)
    }
}
