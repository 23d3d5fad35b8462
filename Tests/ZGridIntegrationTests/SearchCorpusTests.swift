import Foundation
import Testing
import ZGridClient

extension IntegrationTests {
    @Suite("zgrid worker: the generated search corpus", .serialized, .timeLimit(.minutes(2)))
    struct SearchCorpusTests {
        /// `zgrid worker`'s `search` answers for `queries`, one after the other.
        private func answers(_ queries: [String], options: [String]) async throws -> [String] {
            var answers: [String] = []
            try await withWorkerProcess(options: ["--function", "search"] + options) { worker in
                for query in queries {
                    let reply = try await worker.client.call("search", bytes(query), timeout: .seconds(30))
                    answers.append(String(decoding: reply, as: UTF8.self))
                }
            }
            return answers
        }

        @Test(
            "the same seed makes the same documents: search results are pinned, for the whole corpus and for a few shards of a negative seed (--seed -7)"
        )
        func sameSeedSameResults() async throws {
            let queries = ["kalo mine", "zeka", "hapa toxo", "vovo", "kaka lolo mimi", ""]
            #expect(
                try await answers(queries, options: ["--seed=42"]) == [
                    #"{"shards":[0],"hits":3,"top":["0:447","0:562","0:782"]}"#,
                    #"{"shards":[0],"hits":40,"top":["0:30","0:42","0:98","0:121","0:135","0:138","0:182","0:186","0:191","0:243"]}"#,
                    #"{"shards":[0],"hits":0,"top":[]}"#,
                    #"{"shards":[0],"hits":42,"top":["0:8","0:15","0:44","0:46","0:77","0:84","0:86","0:113","0:149","0:150"]}"#,
                    #"{"shards":[0],"hits":0,"top":[]}"#,
                    #"{"shards":[0],"hits":0,"top":[]}"#,
                ])
            #expect(
                try await answers(queries, options: ["--seed", "-7", "--shards", "3,9-11/4096"]) == [
                    #"{"shards":[3,9,10,11],"hits":9,"top":["3:58","3:270","3:839","9:472","9:904","10:933","11:167","11:649","11:939"]}"#,
                    #"{"shards":[3,9,10,11],"hits":181,"top":["3:46","3:72","3:74","3:84","3:90","3:121","3:127","3:132","3:144","3:148"]}"#,
                    #"{"shards":[3,9,10,11],"hits":0,"top":[]}"#,
                    #"{"shards":[3,9,10,11],"hits":179,"top":["3:17","3:42","3:75","3:94","3:95","3:127","3:138","3:186","3:187","3:212"]}"#,
                    #"{"shards":[3,9,10,11],"hits":1,"top":["9:341"]}"#,
                    #"{"shards":[3,9,10,11],"hits":0,"top":[]}"#,
                ])
        }

        @Test("a worker holding the largest corpus (4096 shards, 4 million documents) starts in seconds, in a few hundred MiB, and answers")
        func largestCorpus() async throws {
            // One `Set` per document once took most of a minute and close to 1 GiB before the worker
            // even connected: its calls failed "unknown function" at the end of the grace.
            try await withWorkerProcess(options: ["--function", "search", "--shards", "0-4095/4096"]) { worker in
                let resident = try #require(residentBytes(of: worker.process.processIdentifier))
                // A sanitizer's shadow memory comes on top of the corpus's 128 MiB (502 MiB resident
                // measured under ThreadSanitizer); the sets took twice that without one.
                let limit = underSanitizer ? 1024 << 20 : 400 << 20
                #expect(resident < limit, "the worker holds \(resident >> 20) MiB")
                let reply = String(
                    decoding: try await worker.client.call("search", bytes("kalo mine"), timeout: .seconds(60)), as: UTF8.self)
                #expect(reply.hasPrefix(#"{"shards":[0,1,2,3,"#) && reply.contains(#",4094,4095],"hits":7771,"#), "\(reply.prefix(200))")
                #expect(
                    reply.hasSuffix(#""top":["0:447","0:562","0:782","1:143","1:841","2:102","2:281","3:292","3:860","4:362"]}"#),
                    "\(reply.suffix(200))")
            }
        }
    }
}
