/// A consistency rule of SPEC §3.
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

extension Catalog {
    /// The mode a set of live service codes gives a domain: nil with no mode service or with both.
    func mode(of codes: some Collection<String>) -> IntegrationMode? {
        let modes = Set(codes.compactMap { self[$0]?.mode })
        return modes.count == 1 ? modes.first : nil
    }

    /// Every violated rule for a domain whose live services have these codes (SPEC §3).
    public func consistencyViolations(of codes: [String], region: Region) -> [Violation] {
        violations(of: codes, region: region)
    }

    /// Every violated rule for a domain whose live services have these codes.
    func violations(of codes: [String], region: Region) -> [Violation] {
        let live = Set(codes)
        let ordered = services.filter { live.contains($0.code) }
        var found: [Violation] = []
        let base = baseService
        if !live.contains(base.code) {
            found.append(
                Violation(
                    rule: .missingBase, services: [base.code],
                    message: "The domain has no \(base.code) (\(base.name(locale: "en"))); add it with service.add."))
        }
        let modeServices = services.filter { $0.kind == .mode }
        if !modeServices.contains(where: { live.contains($0.code) }) {
            let choices = modeServices.map { "\($0.code) for \($0.mode!.rawValue) mode" }.joined(separator: " or ")
            found.append(
                Violation(
                    rule: .missingMode, services: modeServices.map(\.code),
                    message: "The domain has no mode service; add \(choices)."))
        }
        for s in ordered {
            for dep in s.requires where !live.contains(dep) && dep != base.code {  // missing-base covers it
                found.append(
                    Violation(
                        rule: .requires, services: [s.code, dep],
                        message: "\(s.code) requires \(dep); add \(dep) or cancel \(s.code)."))
            }
            if !s.requiresAny.isEmpty && !s.requiresAny.contains(where: live.contains) {
                let list = s.requiresAny.joined(separator: ", ")
                found.append(
                    Violation(
                        rule: .requiresAny, services: [s.code] + s.requiresAny,
                        message: "\(s.code) requires one of \(list); add one of them or cancel \(s.code)."))
            }
        }
        found += permanentViolations(of: ordered, live: live, region: region)
        return found
    }

    /// Whether a service can be booked beside these live services without a permanent violation
    /// (the fast form of ``permanentViolations(of:region:)`` for `actions`; builds no messages).
    func isBookable(_ code: String, beside live: Set<String>, region: Region) -> Bool {
        guard let service = self[code], !live.contains(code) else { return false }
        if let regions = service.regions, !regions.contains(region) { return false }
        if service.excludes.contains(where: live.contains) { return false }
        if live.contains(where: { self[$0]?.excludes.contains(code) == true }) { return false }
        var all = live
        all.insert(code)
        guard let mode = mode(of: all) else { return true }
        return all.allSatisfy { self[$0]?.modes.map { $0.contains(mode) } ?? true }
    }

    /// The violations no later booking can repair: exclusions, wrong mode, wrong region.
    func permanentViolations(of codes: [String], region: Region) -> [Violation] {
        let live = Set(codes)
        return permanentViolations(of: services.filter { live.contains($0.code) }, live: live, region: region)
    }

    private func permanentViolations(of ordered: [Service], live: Set<String>, region: Region) -> [Violation] {
        var found: [Violation] = []
        var reported: Set<Set<String>> = []
        for s in ordered {
            for other in s.excludes where live.contains(other) && reported.insert([s.code, other]).inserted {
                found.append(
                    Violation(
                        rule: .excludes, services: [s.code, other],
                        message: "\(s.code) and \(other) exclude each other; keep only one of them."))
            }
        }
        let domainMode = mode(of: live)
        for s in ordered {
            if let modes = s.modes, let domainMode, !modes.contains(domainMode) {
                let allowed = modes.map(\.rawValue).joined(separator: " or ")
                found.append(
                    Violation(
                        rule: .mode, services: [s.code],
                        message:
                            "\(s.code) runs only in \(allowed) mode, but the domain is in \(domainMode.rawValue) mode; do not book \(s.code) on this domain."
                    ))
            }
            if let regions = s.regions, !regions.contains(region) {
                let allowed = regions.map(\.rawValue).joined(separator: ", ")
                found.append(
                    Violation(
                        rule: .region, services: [s.code],
                        message:
                            "\(s.code) is available only in region \(allowed), but the domain is in region \(region.rawValue); do not book \(s.code) on this domain."
                    ))
            }
        }
        return found
    }
}
