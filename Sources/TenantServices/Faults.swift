/// Deliberately broken rules, for proving that invariant checks catch them (tests only).
package struct Faults: Sendable, Equatable {
    /// Lets partner admins with only the Support role order.
    package var supportMayOrder = false

    package init(supportMayOrder: Bool = false) { self.supportMayOrder = supportMayOrder }
}
