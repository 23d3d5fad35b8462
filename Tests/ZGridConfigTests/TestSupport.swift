import Testing
import ZGridConfig

/// Parses `text`, expecting a ``ConfigError``, and returns it.
func parseError(
    _ text: String,
    file: String = "cluster.conf",
    sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigError? {
    #expect(throws: ConfigError.self, sourceLocation: sourceLocation) {
        try ClusterConfig.parse(text, file: file)
    }
}

/// A minimal valid pool table.
let minimalPool = """
    [[pool]]
    name = "p"
    functions = ["echo"]

    """
