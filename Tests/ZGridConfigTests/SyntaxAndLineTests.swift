import Testing
import ZGridConfig

@Suite("TOML syntax errors and line tracking")
struct SyntaxAndLineTests {
    @Test("a TOML syntax error reports TOMLKit's line")
    func syntaxError() throws {
        let text = """
            [broker]
            liveness = 3

            heartbeat_ms = = 5
            max_frames = 64

            """
        let error = try #require(parseError(text, file: "grid.conf"))
        #expect(error.file == "grid.conf")
        #expect(error.line == 4)
        #expect(error.key == nil)
        #expect(error.message == "invalid TOML at column 16: Error while parsing value: could not determine value type")
        #expect(error.description.hasPrefix("grid.conf:4: invalid TOML"))
    }

    @Test("other syntax errors: unclosed header, redefined key, unterminated string")
    func moreSyntaxErrors() {
        #expect(parseError("\n[broker\nliveness = 3\n")?.line == 2)
        #expect(parseError("[broker]\nliveness = 3\nliveness = 4\n")?.line == 3)
        #expect(parseError("[broker]\n\n\nlog_level = \"info\n")?.line == 4)
    }

    @Test("lines are found in the right pool even when earlier pools have the same key")
    func lineInThirdPool() throws {
        let text = """
            [[pool]]
            name = "a"   # [[pool]] in a comment
            functions = ["echo"]
            processes = 2

            [[pool]]
            name = "b = [[pool]]"
            functions = ["echo"]
            processes = 2

            [[pool]]
            name = "c"
            functions = ["echo"]
            processes = 999

            """
        let error = try #require(parseError(text))
        #expect(error.key == "pool[2].processes")
        #expect(error.line == 14)
    }

    @Test("multi-line strings and arrays do not confuse the line scan")
    func multiLineValues() throws {
        let text = #"""
            [[pool]]
            name = """
            liveness = 1
            [broker]
            """
            functions = [
              "echo", # liveness = 2
              "x",
            ]

            [broker]
            liveness = 0

            """#
        let error = try #require(parseError(text))
        #expect(error.key == "broker.liveness")
        #expect(error.line == 12)
    }

    @Test("dotted keys, quoted keys and CRLF line endings are located")
    func dottedQuotedCRLF() throws {
        let dotted = try #require(parseError("# x\nbroker.liveness = 0\n"))
        #expect(dotted.key == "broker.liveness")
        #expect(dotted.line == 2)

        let quoted = try #require(parseError("[broker]\n\"max_frames\" = 1\n"))
        #expect(quoted.key == "broker.max_frames")
        #expect(quoted.line == 2)

        let crlf = try #require(parseError("[broker]\r\nliveness = 3\r\n\r\nheartbeat_ms = 1\r\n"))
        #expect(crlf.key == "broker.heartbeat_ms")
        #expect(crlf.line == 4)
    }

    @Test("description leaves out unknown parts")
    func descriptionFormats() {
        #expect(ConfigError(file: "a.conf", key: "broker", message: "m").description == "a.conf: broker: m")
        #expect(ConfigError(file: "a.conf", line: 3, message: "m").description == "a.conf:3: m")
        #expect(ConfigError(file: "", message: "m").description == "m")
    }
}
