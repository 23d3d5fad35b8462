// The protocol's and the ZeroMQ wrapper's types that a worker's code names (`HandlerFailure(.malformed, …)`'s
// code, `ShardSpec`, `PeerSecurity(…)`, `Context()` for inproc endpoints…). Neither module is a
// product of the package, so `import ZGridWorker` brings them.
@_exported import enum ZGridProtocol.ErrorCode
@_exported import struct ZGridProtocol.HeartbeatSettings
@_exported import struct ZGridProtocol.PeerSecurity
@_exported import struct ZGridProtocol.ShardSpec
@_exported import class ZeroMQ.Context
@_exported import struct ZeroMQ.CurveKeyPair
