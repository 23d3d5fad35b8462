/// A limit on the functions `[[pool]]` tables may name, for a program that runs the pools' workers
/// itself and so serves only some functions (`zgrid up` runs its built-ins). A function outside it
/// is an error of the file, naming the line and the element of `functions`.
public struct PoolFunctionLimit: Sendable, Equatable {
    /// The functions a pool may name.
    public var names: [String]
    /// What they are, in errors: `expected one of <kind> <names>, got …`, such as `"the built-in functions"`.
    public var kind: String
    /// Why only these, said in parentheses after the value in errors, if anything.
    public var reason: String?

    /// Creates a limit.
    /// - Parameters:
    ///   - names: The functions a pool may name.
    ///   - kind: What they are, in errors, such as `"the built-in functions"`.
    ///   - reason: Why only these, for errors.
    public init(names: [String], kind: String, reason: String? = nil) {
        self.names = names
        self.kind = kind
        self.reason = reason
    }

    /// What is wrong with naming `function` in a pool, or `nil` when it is one of ``names``.
    func problem(with function: String) -> String? {
        guard !names.contains(function) else { return nil }
        return "expected one of \(kind) \(names.joined(separator: ", ")), got \(String(reflecting: function))"
            + (reason.map { " (\($0))" } ?? "")
    }
}
