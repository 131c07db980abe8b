public import JanssonJSON

/// Builds the OpenRPC document of the interface from `Schemas/`.
public enum OpenRPC {
    /// The errors every method may answer, as OpenRPC error objects (generated from the codes).
    static let errors = PortalErrorCodes.openRPCErrors

    /// The OpenRPC 1.3 document for these methods (in this order).
    public static func document(schemas: SchemaSet, methods: [String]) -> JSONValue {
        var methodObjects: [JSONValue] = []
        for name in methods {
            guard let params = schemas.files["methods/\(name).params.json"],
                let result = schemas.files["methods/\(name).result.json"]
            else { continue }
            let required = Set(params["required"]?.elements.compactMap(\.stringValue) ?? [])
            let descriptors = (params["properties"]?.members ?? []).map { member in
                JSONValue.object([
                    ("name", JSONValue(member.key)), ("required", JSONValue(required.contains(member.key))),
                    ("schema", rewrite(member.value)),
                ])
            }
            var object: [(String, JSONValue)] = [
                ("name", JSONValue(name)), ("summary", params["description"] ?? JSONValue(name)),
                ("paramStructure", "by-name"), ("params", .array(descriptors)),
                ("result", .object([("name", JSONValue(name + ".result")), ("schema", rewrite(strip(result)))])),
                ("errors", .array(errors.map { .object([("$ref", JSONValue("#/components/errors/" + $0.name))]) })),
            ]
            if let example = params["examples"]?[0] {
                object.append(
                    (
                        "examples",
                        [
                            .object([
                                ("name", JSONValue(name + " example")),
                                (
                                    "params",
                                    .array(
                                        example.members.map {
                                            .object([("name", JSONValue($0.key)), ("value", $0.value)])
                                        })
                                ),
                            ])
                        ]
                    ))
            }
            methodObjects.append(.object(object))
        }
        var components: [(String, JSONValue)] = []
        if let defs = schemas.files["entities.json"]?["$defs"] {
            components.append(("schemas", .object(defs.members.map { ($0.key, rewrite($0.value)) })))
        }
        components.append(
            (
                "errors",
                .object(
                    errors.map {
                        ($0.name, .object([("code", JSONValue($0.code)), ("message", JSONValue($0.message))]))
                    })
            ))
        return .object([
            ("openrpc", "1.3.2"),
            (
                "info",
                .object([
                    ("title", "TenantServices"), ("version", "1.0.0"),
                    (
                        "description",
                        "Tenants, domains and booked services of a cloud e-mail security reseller portal, over JSON-RPC 2.0 on stdio. Every method but rpc.discover takes an actor; clock.get and clock.set exist only on a server started with --clock."
                    ),
                ])
            ),
            ("methods", .array(methodObjects)),
            ("components", .object(components)),
        ])
    }

    /// Drops `$schema`, `$id`, `title` and `examples` from a top-level schema.
    private static func strip(_ schema: JSONValue) -> JSONValue {
        .object(
            schema.members.filter { !["$schema", "$id", "title", "examples"].contains($0.key) }.map {
                ($0.key, $0.value)
            })
    }

    /// Points `$ref`s at `#/components/schemas/…`.
    static func rewrite(_ value: JSONValue) -> JSONValue {
        switch value.kind {
        case .object:
            return .object(
                value.members.map { member in
                    if member.key == "$ref", let target = member.value.stringValue,
                        let name = target.split(separator: "/").last
                    {
                        return (member.key, JSONValue("#/components/schemas/" + name))
                    }
                    return (member.key, rewrite(member.value))
                })
        case .array:
            return .array(value.elements.map(rewrite))
        default:
            return value
        }
    }
}
