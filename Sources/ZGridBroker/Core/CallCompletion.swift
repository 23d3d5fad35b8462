/// A plain call the core answered, for the shell's call counts and durations.
///
/// The core notes one for every CALL it answers with REPLY or ERROR, from the moment it took the
/// call in (refusals included); a call cancelled by its client, or forgotten with its client, has
/// none. Scatters, their parts and job attempts are not calls in this sense.
public struct CallCompletion: Sendable, Equatable {
    /// The function called; nil when no worker served it when the call arrived (metrics count such
    /// calls together, so that invented names cannot grow them).
    public let function: String?
    /// When the CALL arrived, as ``BrokerCore/arrivalNanoseconds`` said then.
    public let arrivedAt: UInt64
    /// Whether the call was answered with REPLY (else with ERROR).
    public let succeeded: Bool

    /// A completion of a call to `function` that arrived at `arrivedAt`.
    public init(function: String?, arrivedAt: UInt64, succeeded: Bool) {
        self.function = function
        self.arrivedAt = arrivedAt
        self.succeeded = succeeded
    }
}

extension BrokerCore {
    /// Forgets the completions noted so far, once the shell has counted them.
    public mutating func clearCompletedCalls() {
        completedCalls.removeAll(keepingCapacity: true)
    }

    /// Notes that a call to `function` was refused as it arrived.
    mutating func noteRefusal(of function: String, served: Bool) {
        completedCalls.append(CallCompletion(function: served ? function : nil, arrivedAt: arrivalNanoseconds, succeeded: false))
    }

    /// Notes that `call` was answered.
    mutating func noteCompletion(of call: CallRecord, succeeded: Bool) {
        completedCalls.append(
            CallCompletion(function: call.servedOnArrival ? call.function : nil, arrivedAt: call.arrivedAt, succeeded: succeeded))
    }
}
