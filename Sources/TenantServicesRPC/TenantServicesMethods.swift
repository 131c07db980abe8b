import Foundation
public import JSONRPC
import JanssonJSON
public import TenantServices

/// The method table that exposes a ``Portal`` over JSON-RPC: every operation under its method
/// name (`tenant.create`, …), params checked against `Schemas/` before anything runs.
public enum TenantServicesMethods {
    /// Every request type of the library, by method name.
    static let requests: [any PortalRequest.Type] = [
        CatalogGet.self, PartnerCreate.self, PartnerList.self, TenantCreate.self, TenantUpdate.self, TenantGet.self,
        TenantList.self, TenantImport.self, DomainAdd.self, DomainAddManually.self, DomainGet.self, DomainCheck.self,
        DomainConfirm.self, DomainDeploy.self, DomainSetConfidential.self, DomainGrantAccess.self,
        DomainRevokeAccess.self, ServiceAdd.self, ServiceAvailable.self, TaskList.self, TaskComplete.self,
        UsersImport.self, UsersRemove.self, UsersList.self, WorkflowTick.self, AuditList.self, ServiceCancel.self,
        ServiceUncancel.self, ServiceSetDiscount.self, BillingStatement.self, OfferCreate.self, OfferGet.self,
        OfferList.self,
        OfferSend.self, OfferAccept.self, OfferDecline.self, OfferRender.self,
    ]

    /// The methods that exist only on a server with a fixed test clock.
    public static let clockMethods = ["clock.get", "clock.set"]

    /// Builds the method table.
    ///
    /// - Parameter clock: the settable test clock; when nil, `clock.get`/`clock.set` do not exist.
    public static func table(portal: Portal, clock: ManualClock?, schemas: SchemaSet = .embedded) throws -> [Method] {
        var methods = try requests.map { try bind($0, portal: portal, schemas: schemas) }
        if let clock {
            methods.append(
                Method("clock.get", paramsSchema: try schemas.paramsSchema(for: "clock.get")) { params in
                    try requireOperator(params)
                    return ["now": JSONValue(JSONValueEncoder.text(for: clock.now()))]
                })
            methods.append(
                Method("clock.set", paramsSchema: try schemas.paramsSchema(for: "clock.set")) { params in
                    try requireOperator(params)
                    guard let text = params?["now"]?.stringValue, let date = parseTimestamp(text) else {
                        throw JSONRPCError(.invalidParams, "now must be an RFC 3339 date-time")
                    }
                    if let refusal = portal.calendar.dateRuleRefusal(at: date) {
                        throw rpcError(
                            PortalError(refusal.code, "\(text): \(refusal.message)", details: refusal.details))
                    }
                    clock.set(date)
                    return ["now": JSONValue(JSONValueEncoder.text(for: clock.now()))]
                })
        }
        let names = methods.map(\.name) + ["rpc.discover"]
        let discovery = OpenRPC.document(schemas: schemas, methods: names)
        methods.append(
            Method("rpc.discover", paramsSchema: try schemas.paramsSchema(for: "rpc.discover")) { _ in discovery })
        return methods
    }

    private static func bind<R: PortalRequest>(_ type: R.Type, portal: Portal, schemas: SchemaSet) throws -> Method {
        let decoder = JSONValueDecoder()
        let encoder = JSONValueEncoder()
        // The hottest results are written straight into jansson, the others through Codable.
        let isDirect = R.Response.self is any DirectlyEncoded.Type
        return Method(R.method, paramsSchema: try schemas.paramsSchema(for: R.method)) { params in
            // Prepared (decoded) possibly while earlier requests are still being applied.
            let params = params ?? .object([])
            let actor: Principal
            let request: R
            do throws(JSONDecodingError) {
                actor = try decoder.decode(Principal.self, from: params["actor"] ?? .null)
                request = try decoder.decode(R.self, from: params)
            } catch {
                throw JSONRPCError.invalidParams(
                    [ParamError(path: error.pointer, keyword: "type", message: error.message)],
                    message: "invalid params: \(error)")
            }
            let requestKey = params["requestKey"]?.stringValue
            return PreparedCall {
                // Started in the order received.
                let pending: PendingResponse<R.Response>
                do throws(PortalError) {
                    pending = try portal.submit(request, as: actor, requestKey: requestKey)
                } catch {
                    throw rpcError(error)
                }
                // Acknowledged only once durable; requests received meanwhile share the flush.
                return PendingResult {
                    do {
                        let response = try pending.wait()
                        if isDirect, let direct = response as? any DirectlyEncoded { return direct.json }
                        return try encoder.encode(response)
                    } catch let error as PortalError {
                        throw rpcError(error)
                    }
                }
            }
        }
    }

    private static func requireOperator(_ params: JSONValue?) throws {
        guard params?["actor"]?["kind"]?.stringValue == "operator" else {
            throw rpcError(
                PortalError(
                    .permissionDenied, "only the platform operator may use the test clock", details: .init(required: [])
                ))
        }
    }

    static func parseTimestamp(_ text: String) -> Date? {
        try? JSONValueDecoder().decode(Date.self, from: JSONValue(text))
    }
}
