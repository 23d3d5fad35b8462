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
    /// The functions among ``names`` that `shards` makes sharded; `nil` when every one may be. A
    /// pool with `shards` must name one of them: for the others the shards would do nothing.
    public var sharded: [String]?
    /// The functions among ``names`` whose data a pool's `seed` generates: pools serving one of
    /// them must give the same seed, or their workers would answer from other data.
    public var seeded: [String]

    /// Creates a limit.
    /// - Parameters:
    ///   - names: The functions a pool may name.
    ///   - kind: What they are, in errors, such as `"the built-in functions"`.
    ///   - reason: Why only these, for errors.
    ///   - sharded: The functions that `shards` makes sharded; `nil` (the default) for every one.
    ///   - seeded: The functions whose data `seed` generates; none by default.
    public init(names: [String], kind: String, reason: String? = nil, sharded: [String]? = nil, seeded: [String] = []) {
        self.names = names
        self.kind = kind
        self.reason = reason
        self.sharded = sharded
        self.seeded = seeded
    }

    /// What is wrong with naming `function` in a pool, or `nil` when it is one of ``names``.
    func problem(with function: String) -> String? {
        guard !names.contains(function) else { return nil }
        return "expected one of \(kind) \(names.joined(separator: ", ")), got \(String(reflecting: function))"
            + (reason.map { " (\($0))" } ?? "")
    }

    /// What is wrong with giving `shards` to a pool serving `functions`, or `nil` when one of them
    /// is ``sharded``.
    func shardsProblem(functions: [String]) -> String? {
        guard let sharded, !functions.contains(where: sharded.contains) else { return nil }
        return "expected shards only in a pool serving a sharded function (\(sharded.joined(separator: " or "))), "
            + "got them for \(functions.joined(separator: ", ")), which would ignore them"
    }
}
