import ZeroMQ

extension BrokerInbound {
    /// The dispatch id named by a worker's REPLY (ZGW01, or MDPW01 after the empty delimiter) that
    /// had more frames than the broker takes (``Multipart/truncated``), when the frames that were
    /// kept are well formed up to the id; nil for any other message.
    ///
    /// Such a REPLY is malformed and dropped, but it shows that the worker finished the call: the
    /// broker fails that call, so that its caller learns why and the worker's credit returns (an MDP
    /// worker, which cannot be cancelled, would otherwise stay busy for good).
    public static func overlongReplyDispatchID(_ message: Multipart) -> UInt64? {
        guard message.truncated, message.count >= 4 else { return nil }
        if message.frameEquals(1, ProtocolTag.worker) {
            guard message.singleByte(2) == WorkerCommand.reply.rawValue else { return nil }
            return message.id(3)
        }
        guard message.count >= 6, message.size(1) == 0, message.frameEquals(2, Majordomo.workerTag),
            message.singleByte(3) == MajordomoCommand.reply.rawValue, message.size(5) == 0
        else { return nil }
        return message.id(4)
    }
}
