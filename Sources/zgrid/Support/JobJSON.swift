import Foundation
import ZGridClient

/// A job as `zgrid jobs show`, `retry` and `cancel` print it: one JSON document, the job's fields,
/// with a succeeded job's result as `result`: its text when it is valid UTF-8 (`resultEncoding`
/// `"utf8"`), otherwise base64 (`resultEncoding` `"base64"`). A job without a result has neither key.
struct JobJSON: Encodable {
    /// The job shown.
    let job: JobStatus

    private enum ResultKeys: String, CodingKey {
        case result, resultEncoding
    }

    /// Encodes the job's fields, and its result as text or base64.
    func encode(to encoder: any Encoder) throws {
        var fields = job
        fields.result = nil
        try fields.encode(to: encoder)
        guard let result = job.result else { return }
        var container = encoder.container(keyedBy: ResultKeys.self)
        if let text = String(validating: result, as: UTF8.self) {
            try container.encode(text, forKey: .result)
            try container.encode("utf8", forKey: .resultEncoding)
        } else {
            try container.encode(result.base64EncodedString(), forKey: .result)
            try container.encode("base64", forKey: .resultEncoding)
        }
    }

    /// `job` as indented JSON with sorted keys.
    static func render(_ job: JobStatus) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(JobJSON(job: job)), as: UTF8.self)
    }
}
