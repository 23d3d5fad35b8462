import Testing
import ZGridConfig

@Suite("Invalid endpoints, function names, shards and required keys")
struct ValueErrorTests {
    @Test(
        "bad bind endpoints name the element and what was expected",
        arguments: [
            ("http://x:80", "expected a ZeroMQ endpoint starting with tcp://, ipc:// or inproc://, got \"http://x:80\""),
            ("127.0.0.1:5555", "expected a ZeroMQ endpoint starting with tcp://, ipc:// or inproc://, got \"127.0.0.1:5555\""),
            ("tcp://localhost", "expected a tcp endpoint like tcp://host:port, got \"tcp://localhost\""),
            ("tcp://localhost:70000", "expected a port from 1 to 65535 or * in a tcp endpoint, got \"tcp://localhost:70000\""),
            ("ipc://", "expected an address without spaces after ipc://, got \"ipc://\""),
            (
                "tcp://foo/bar:5555",
                "expected a host name, an IP address or [IPv6 address], an interface or * before the port, got \"tcp://foo/bar:5555\""
            ),
            ("tcp://127.0.0.1:5555", "expected each endpoint once, got \"tcp://127.0.0.1:5555\" twice"),
        ]
    )
    func badBind(endpoint: String, message: String) throws {
        let error = try #require(parseError("[broker]\n\nbind = [\"tcp://127.0.0.1:5555\", \"\(endpoint)\"]\n"))
        #expect(error.line == 3)
        #expect(error.key == "broker.bind[1]")
        #expect(error.message == message)
    }

    @Test("bad connect endpoints")
    func badConnect() throws {
        let wildcard = try #require(parseError("[broker]\nconnect = \"tcp://*:5555\"\n"))
        #expect(wildcard.key == "broker.connect")
        #expect(wildcard.line == 2)
        #expect(wildcard.message == "expected a concrete host and a port from 1 to 65535 to connect to, got \"tcp://*:5555\"")

        // libzmq refuses these characters in a tcp address (EINVAL): a worker would retry forever.
        let slash = try #require(parseError("[broker]\nconnect = \"tcp://user@host:5555\"\n"))
        #expect(slash.key == "broker.connect")
        #expect(slash.message == "expected a host name, an IP address or [IPv6 address] before the port, got \"tcp://user@host:5555\"")

        let underivable = try #require(parseError("[broker]\nbind = [\"tcp://*:*\"]\n"))
        #expect(underivable.key == "broker.connect")
        #expect(underivable.line == 2)
        #expect(underivable.message.hasPrefix("expected an explicit connect endpoint"))

        let empty = try #require(parseError("[broker]\nbind = []\n"))
        #expect(empty.key == "broker.bind")
        #expect(empty.message.hasSuffix("got an empty array"))
    }

    @Test(
        "bad function names",
        arguments: [
            ("bad name", "expected a function name made of A-Z a-z 0-9 . _ -, got \"bad name\" (\" \" is not allowed)"),
            ("héllo", "expected a function name made of A-Z a-z 0-9 . _ -, got \"héllo\" (\"é\" is not allowed)"),
            (
                "mmi.service",
                "expected a function name not starting with \"mmi.\" (reserved for broker service queries), got \"mmi.service\""
            ),
            ("", "expected a function name of 1 to 255 characters, got \"\""),
            (String(repeating: "f", count: 256), "expected a function name of at most 255 bytes, got one of 256 bytes"),
            ("echo", "expected each function once, got \"echo\" twice"),
        ]
    )
    func badFunctionName(name: String, message: String) throws {
        let text = """
            [[pool]]
            name = "p"
            functions = [
              "echo",
              "\(name)",
            ]

            """
        let error = try #require(parseError(text))
        #expect(error.line == 3)
        #expect(error.key == "pool[0].functions[1]")
        #expect(error.message == message)
    }

    @Test("a 255-byte function name is accepted")
    func longestFunctionName() throws {
        let name = String(repeating: "f", count: 255)
        let config = try ClusterConfig.parse("[[pool]]\nname = \"p\"\nfunctions = [\"\(name)\"]\n")
        #expect(config.pools[0].functions == [name])
    }

    @Test(
        "bad shard strings say what is wrong",
        arguments: [
            ("0-3", "missing \"/total\""),
            ("4-2/16", "the range 4-2 runs backwards"),
            ("0-16/16", "index 16 is not below the total 16"),
            ("a/16", "\"a\" is neither an index nor a range like 5-7"),
            ("0-3/0", "the total must be from 1 to 4096"),
            ("0-3/x", "the total \"x\" is not a whole number"),
        ]
    )
    func badShards(shards: String, reason: String) throws {
        let error = try #require(parseError(minimalPool + "shards = \"\(shards)\"\n"))
        #expect(error.line == 4)
        #expect(error.key == "pool[0].shards")
        #expect(error.message.hasPrefix("expected a shard set like \"0-3/16\" or \"0,2,5-7/16\""))
        #expect(error.message.hasSuffix("got \"\(shards)\": \(reason)"))
    }

    @Test("missing required keys are reported at the pool's header")
    func missingRequired() throws {
        let noFunctions = try #require(parseError(minimalPool + "\n[[pool]]\nname = \"q\"\nprocesses = 2\n"))
        #expect(noFunctions.line == 5)
        #expect(noFunctions.key == "pool[1].functions")
        #expect(noFunctions.message.hasPrefix("missing required key \"functions\"; expected a non-empty array of function name strings"))

        let noName = try #require(parseError("[[pool]]\nfunctions = [\"echo\"]\n"))
        #expect(noName.line == 1)
        #expect(noName.key == "pool[0].name")
        #expect(noName.message == "missing required key \"name\"; expected a non-empty pool name string")
    }

    @Test("empty pool name and empty functions")
    func emptyValues() throws {
        let name = try #require(parseError("[[pool]]\nname = \"  \"\nfunctions = [\"echo\"]\n"))
        #expect(name.line == 2)
        #expect(name.message == "expected a non-empty pool name string, got \"  \"")
        let functions = try #require(parseError("[[pool]]\nname = \"p\"\nfunctions = []\n"))
        #expect(functions.line == 3)
        #expect(functions.key == "pool[0].functions")
        #expect(functions.message.hasSuffix("got an empty array"))
    }

    @Test("a duplicate pool name points at the second pool and names the first")
    func duplicatePoolName() throws {
        let text = """
            [[pool]]
            name = "demo"
            functions = ["echo"]

            [[pool]]
            functions = ["hash"]
            name = "demo"

            """
        let error = try #require(parseError(text))
        #expect(error.line == 7)
        #expect(error.key == "pool[1].name")
        #expect(error.message == "expected a unique pool name, got \"demo\" which pool[0] on line 2 already uses")
    }
}
