import Foundation
import Testing
import ZGridBroker
import ZGridClient
import ZGridProtocol

extension IntegrationTests {
    @Suite("Codable calls with bad payloads")
    struct CodablePayloadTests {
        typealias Point = IntegrationTests.CallEachTests.Point

        @Test("Codable calls with bad payloads fail with typed errors that say what went wrong")
        func codableBadPayloads() async throws {
            let broker = try startBroker()
            defer { broker.stop() }
            let worker = try await startWorker(broker) { worker in
                worker.register("mirror", input: Point.self) { point in Point(x: point.y, y: point.x) }
                worker.register("text") { _ in Array("not json".utf8) }
                worker.register("nan", input: Point.self) { _ in Point(x: .nan, y: 0) }
            }
            let client = try GridClient(broker: broker.endpoints[0], heartbeat: testHeartbeat)
            let results: [Result<Point, GridError>] = [
                await outcome { () async throws(GridError) in
                    try await client.call("mirror", Point(x: .infinity, y: 0), returning: Point.self)
                },
                await outcome { () async throws(GridError) in try await client.call("mirror", ["x": "one"], returning: Point.self) },
                await outcome { () async throws(GridError) in try await client.call("text", Point(x: 1, y: 2), returning: Point.self) },
                await outcome { () async throws(GridError) in try await client.call("nan", Point(x: 1, y: 2), returning: Point.self) },
            ]
            let expected: [(String, [String])] = [
                ("coding", ["cannot encode Point", "inf"]),  // never sent
                ("malformed", ["cannot decode the input of 'mirror' as Point", "Path: x"]),
                ("coding", ["cannot decode the reply of 'text' as Point", "not valid JSON"]),
                ("handlerError", ["cannot encode the output of 'nan' (Point) as JSON", "nan"]),
            ]
            for (result, (kind, words)) in zip(results, expected) {
                let message: String? =
                    switch result {
                    case .failure(.coding(let message)) where kind == "coding": message
                    case .failure(.malformed(let message)) where kind == "malformed": message
                    case .failure(.handlerError(let message)) where kind == "handlerError": message
                    default: nil
                    }
                #expect(
                    message.map { message in words.allSatisfy { message.contains($0) } } == true, "expected \(kind) \(words), got \(result)"
                )
            }
            await client.close()
            await worker.stop()
        }
    }
}
