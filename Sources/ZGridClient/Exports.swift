// The protocol's and the ZeroMQ wrapper's types that a client's code names (`JobQuery(…)`,
// `PeerSecurity(…)`, `Context()` for inproc endpoints…). Neither module is a product of the
// package, so `import ZGridClient` brings them.
@_exported import struct ZGridProtocol.EventFilter
@_exported import struct ZGridProtocol.GridEvent
@_exported import enum ZGridProtocol.GridEventKind
@_exported import struct ZGridProtocol.HeartbeatSettings
@_exported import struct ZGridProtocol.JobInfo
@_exported import struct ZGridProtocol.JobQuery
@_exported import struct ZGridProtocol.PeerSecurity
@_exported import struct ZGridProtocol.ScatterSummary
@_exported import struct ZGridProtocol.StatusReport
@_exported import class ZeroMQ.Context
@_exported import struct ZeroMQ.CurveKeyPair
