/// The message of an ERROR the worker sends, cut to fit the broker's frame size limit: a frame
/// over it makes libzmq in the broker drop the worker's connection, so that the call (and every
/// other call running on the worker) would fail as a lost worker instead of with the handler's
/// error.
enum ErrorMessageLimit {
    /// What ends a message that was cut.
    static let marker = " … (cut to the broker's max_message_bytes)"

    /// `message` as UTF-8, whole when it fits `limit` bytes (or no limit is known yet), else its
    /// start, cut on a character boundary, followed by ``marker``, in `limit` bytes at most.
    static func bytes(_ message: String, limit: Int?) -> [UInt8] {
        let bytes = Array(message.utf8)
        guard let limit, bytes.count > limit else { return bytes }
        let ending = Array(marker.utf8)
        let room = limit - ending.count
        guard room > 0 else { return Array(bytes.prefix(max(0, limit))) }
        var cut = room
        // Not inside a character: back off over UTF-8 continuation bytes (0b10xxxxxx).
        while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
        return Array(bytes[..<cut]) + ending
    }
}
