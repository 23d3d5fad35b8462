import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol
import ZGridWorker
import ZeroMQ

extension IntegrationTests {
    @Suite("Majordomo (MDP/0.1) and MMI with Python peers", .serialized, .timeLimit(.minutes(2)))
    struct MajordomoTests {
        @Test("a Python MDP client calls a ZGrid worker's function over REQ and DEALER, also past the client expiry")
        func mdpClientCallsZGridWorker() async throws {
            try await PythonPeers.requirePyzmq()
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("greet") { bytes("hello, ") + $0.payload }
                worker.register("slow") { request in
                    try await Task.sleep(for: .milliseconds(2500))  // longer than the broker's client expiry (1.6 s)
                    return request.payload
                }
            }
            let endpoint = broker.endpoints[0]
            #expect(
                try await PythonPeers.mdpClient(endpoint, "greet", ["wor", "ld"]) == MDPReply(service: "greet", body: ["hello, world"]))
            let overDealer = try await PythonPeers.mdpClient(endpoint, "greet", ["mdp"], dealer: true)
            #expect(overDealer == MDPReply(service: "greet", body: ["hello, mdp"]))
            #expect(try await PythonPeers.mdpClient(endpoint, "slow", ["zzz"]) == MDPReply(service: "slow", body: ["zzz"]))
            let status = try await settledStatus(broker)
            #expect(status.statistics.callsSucceeded == 3)
            #expect(status.statistics.malformedMessages == 0)
            #expect(status.callsInFlight == 0)
            await worker.stop()
        }

        @Test("a Python MDP worker serves a ZGrid client and an MDP client, heartbeats, and leaves on DISCONNECT")
        func mdpWorkerServesZGridClient() async throws {
            try await PythonPeers.requirePyzmq()
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let process = try PythonPeers.launchWorker(
                endpoint, "shout", heartbeatMilliseconds: testHeartbeat.intervalMilliseconds, liveness: testHeartbeat.liveness)
            defer { endProcess(process) }
            try await waitUntil("the MDP worker registered") { broker.status.functions["shout"] == 1 }
            let client = try GridClient(broker: endpoint, heartbeat: testHeartbeat)
            #expect(try await client.call("shout", bytes("hello"), timeout: .seconds(5)) == bytes("HELLO"))
            try await withThrowingTaskGroup(of: Void.self) { group in  // concurrency 1: these queue
                for index in 0..<20 {
                    group.addTask {
                        let reply = try await client.call("shout", bytes("call \(index)"), timeout: .seconds(5))
                        #expect(reply == bytes("CALL \(index)"))
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await PythonPeers.mdpClient(endpoint, "shout", ["a", "b"]) == MDPReply(service: "shout", body: ["A", "B"]))
            #expect(try await PythonPeers.mdpClient(endpoint, "mmi.service", ["shout"]) == MDPReply(service: "mmi.service", body: ["200"]))
            try await Task.sleep(for: .milliseconds(1500))  // about two expiries: heartbeats must keep both sides alive
            #expect(try await client.call("shout", bytes("still there"), timeout: .seconds(5)) == bytes("STILL THERE"))
            #expect(broker.status.statistics.workersLost == 0)
            let (exitStatus, errors) = await PythonPeers.stop(process)
            #expect(exitStatus == 0, "the MDP worker did not stop cleanly on SIGTERM")
            #expect(errors.isEmpty, "the MDP worker complained: \(errors)")
            try await waitUntil("the MDP worker left") { broker.status.functions["shout"] == nil && broker.status.workers == 0 }
            #expect(broker.status.statistics.workersLost == 0, "the worker must leave by DISCONNECT, not by going silent")
            #expect(try await PythonPeers.mdpClient(endpoint, "mmi.service", ["shout"]) == MDPReply(service: "mmi.service", body: ["404"]))
            let status = try await settledStatus(broker)
            #expect(status.statistics.callsSucceeded == 23)
            #expect(status.statistics.malformedMessages == 0)
            #expect(status.statistics.protocolViolations == 0)
            await client.close()
        }

        @Test("MMI: mmi.service answers 200 or 404, other mmi. services 501")
        func managementInterface() async throws {
            try await PythonPeers.requirePyzmq()
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            let endpoint = broker.endpoints[0]
            #expect(try await PythonPeers.mdpClient(endpoint, "mmi.service", ["echo"]) == MDPReply(service: "mmi.service", body: ["200"]))
            #expect(try await PythonPeers.mdpClient(endpoint, "mmi.service", ["nope"]) == MDPReply(service: "mmi.service", body: ["404"]))
            let internalKey = try await PythonPeers.mdpClient(endpoint, "mmi.service", ["echo#0"], dealer: true)
            #expect(internalKey == MDPReply(service: "mmi.service", body: ["404"]), "internal routing keys are not services")
            #expect(try await PythonPeers.mdpClient(endpoint, "mmi.other", ["echo"]) == MDPReply(service: "mmi.other", body: ["501"]))
            #expect(try await settledStatus(broker).statistics.callsReceived == 0, "MMI is answered by the broker, not as calls")
            await worker.stop()
        }

        @Test("bad MDP messages are counted and dropped; unknown and mmi. workers are told DISCONNECT in MDP form")
        func badMajordomoInput() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let tagW = Majordomo.workerTag
            let malformed: [[[UInt8]]] = [
                [[]],  // the empty frame alone
                [[], bytes("MDPX01"), [1]],  // unknown tag
                [[], tagW, [0x09]],  // unknown command
                [[], tagW, [MajordomoCommand.request.rawValue], .bigEndian(UInt64(1)), [], [1]],  // broker-only command
                [[], tagW, [MajordomoCommand.reply.rawValue], [1, 2, 3], [], [1]],  // short client address
                [[], tagW, [MajordomoCommand.reply.rawValue], .bigEndian(UInt64(1)), [7], [1]],  // delimiter not empty
                [[], tagW, [MajordomoCommand.ready.rawValue], bytes("bad name")],
                [[], Majordomo.clientTag, bytes("no spaces allowed"), [1]],
            ]
            let answers = await onThread { () -> [[[UInt8]]]? in
                guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return nil }
                do {
                    try socket.setLinger(milliseconds: 0)
                    try socket.connect(endpoint)
                    for message in malformed { try socket.send(frames: message, blocking: true) }
                    var answers: [[[UInt8]]] = []
                    for message in [[[], tagW, [MajordomoCommand.heartbeat.rawValue]], [[], tagW, [0x01], bytes("mmi.mine")]] {
                        try socket.send(frames: message, blocking: true)
                        let deadline = Date().addingTimeInterval(5)
                        while Date() < deadline {
                            if let frames = try socket.receiveFrames(blocking: false) {
                                answers.append(frames)
                                break
                            }
                            Thread.sleep(forTimeInterval: 0.005)
                        }
                    }
                    return answers
                } catch { return nil }
            }
            let disconnect: [[UInt8]] = [[], tagW, [MajordomoCommand.disconnect.rawValue]]
            #expect(answers == [disconnect, disconnect])
            try await waitUntil("the broker counted the malformed MDP messages") {
                broker.status.statistics.malformedMessages >= malformed.count
            }
            let status = try await settledStatus(broker)
            #expect(status.statistics.malformedMessages == malformed.count)
            #expect(status.workers == 0)
        }

        @Test("an MDP client's request refused while the broker refuses new work gets no answer in ZGC01 form")
        func majordomoRequestRefused() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let worker = try await startWorker(broker) { $0.register("echo") { $0.payload } }
            broker.refuseNewWork()
            let answers = await rawAnswers(endpoint, to: [[[], Majordomo.clientTag, bytes("echo"), bytes("body")]], for: 0.5)
            #expect(try #require(answers).isEmpty, "MDP has no error reply: \(answers ?? [])")
            await worker.stop()
        }

        @Test("an unknown MDP worker's messages sent back to back are each told DISCONNECT in MDP form")
        func unknownMajordomoWorkerBurst() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let endpoint = broker.endpoints[0]
            let tagW = Majordomo.workerTag
            let heartbeat: [[UInt8]] = [[], tagW, [MajordomoCommand.heartbeat.rawValue]]
            // Three in one go, so that the broker takes them in one pass.
            let answers = await rawAnswers(endpoint, to: Array(repeating: heartbeat, count: 3), for: 1)
            let disconnect: [[UInt8]] = [[], tagW, [MajordomoCommand.disconnect.rawValue]]
            let received = try #require(answers)
            #expect(!received.isEmpty)
            #expect(received.allSatisfy { $0 == disconnect }, "\(received)")
        }
    }
}

/// What a raw DEALER socket connected to `endpoint` receives within `seconds` after sending
/// `messages` in one go; nil when the socket fails.
func rawAnswers(_ endpoint: String, to messages: [[[UInt8]]], for seconds: Double) async -> [[[UInt8]]]? {
    await onThread { () -> [[[UInt8]]]? in
        guard let context = try? Context(), let socket = try? Socket(context, type: .dealer) else { return nil }
        do {
            try socket.setLinger(milliseconds: 0)
            try socket.connect(endpoint)
            for message in messages { try socket.send(frames: message, blocking: true) }
            var answers: [[[UInt8]]] = []
            let deadline = Date().addingTimeInterval(seconds)
            while Date() < deadline {
                if let frames = try socket.receiveFrames(blocking: false) {
                    answers.append(frames)
                } else {
                    Thread.sleep(forTimeInterval: 0.005)
                }
            }
            return answers
        } catch { return nil }
    }
}
