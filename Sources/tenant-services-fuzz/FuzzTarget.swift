// libFuzzer entry point: frame reader + envelope + dispatch of the whole method table, on a
// portal with a few entities. Build and run: see CONTRIBUTING.md ("Fuzzing").
import Foundation
import JSONRPC
import TenantServices
import TenantServicesRPC

/// One server for the whole run: state accumulates across inputs like a long-lived process.
let dispatcher: Dispatcher = {
    let clock = ManualClock(Date(timeIntervalSince1970: 1_795_000_000))
    let portal = try! Portal(clock: clock)
    let op = Principal.platformOperator()
    let partner = try! portal.perform(PartnerCreate(name: "P"), as: op).partner.id
    let tenant = try! portal.perform(
        TenantCreate(
            partnerId: partner, name: "T", contact: Contact(email: "a@b.ch"),
            address: Address(street: "S", postalCode: "1", city: "C", country: "CH")), as: op
    ).tenant.id
    _ = try! portal.perform(
        DomainAdd(tenantId: tenant, name: "d.ch", mode: .inline, services: ["SC-F-OUTBOUND"]), as: op)
    return Dispatcher(
        methods: try! TenantServicesMethods.table(portal: portal, clock: clock),
        limits: Limits(maxMessageBytes: 1 << 16, maxBatchSize: 64, maxDepth: 32))
}()

@_cdecl("LLVMFuzzerTestOneInput")
func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var reader = FrameReader(maxMessageBytes: dispatcher.limits.maxMessageBytes)
    // Feed in two chunks split at a point the input chooses, to exercise partial frames.
    let split = size > 0 ? Int(bytes[0]) % (size + 1) : 0
    reader.append(bytes[..<split])
    while let frame = reader.next() { _ = dispatcher.reply(to: frame) }
    reader.append(bytes[split...])
    while let frame = reader.next() { _ = dispatcher.reply(to: frame) }
    // End of input: a last line without a newline.
    while let frame = reader.finish() { _ = dispatcher.reply(to: frame) }
    return 0
}
