import Testing
import ZGridProtocol

@testable import ZGridBroker

@Suite("Call durations render as a Prometheus histogram")
struct CallDurationHistogramTests {
    @Test("each duration counts in the first bucket whose bound holds it; buckets render cumulatively, with +Inf, sum and count")
    func buckets() {
        var histogram = CallDurationHistogram(bounds: [.microseconds(100), .milliseconds(1), .seconds(5)])
        for nanoseconds: Int64 in [50_000, 100_000, 100_001, 3_000_000_000, 60_000_000_000] {
            histogram.record(nanoseconds: nanoseconds)
        }
        var buffer: [UInt8] = []
        histogram.emit(name: "calls", labels: "function=\"echo\"", into: &buffer)
        let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "calls_bucket{function=\"echo\",le=\"0.0001\"} 2",
                "calls_bucket{function=\"echo\",le=\"0.001\"} 3",
                "calls_bucket{function=\"echo\",le=\"5.0\"} 4",
                "calls_bucket{function=\"echo\",le=\"+Inf\"} 5",
                "calls_sum{function=\"echo\"} 63.000250001",
                "calls_count{function=\"echo\"} 5",
            ])
    }

    @Test("the broker's metrics text carries the histogram once per function, after the registry's metrics")
    func observerText() {
        let observer = BrokerObserver()
        observer.callsEnded([CallCompletion(function: "resize", arrivedAt: 1_000, succeeded: true)], now: 301_000)
        observer.callsEnded(
            [
                CallCompletion(function: "resize", arrivedAt: 2_000, succeeded: false),
                CallCompletion(function: nil, arrivedAt: 2_000, succeeded: false),
            ], now: 2_000_002_000)
        let text = String(decoding: observer.prometheusText(), as: UTF8.self)
        #expect(text.contains("zgrid_calls_total{function=\"resize\",outcome=\"ok\"} 1"), "\(text)")
        #expect(text.contains("zgrid_calls_total{function=\"resize\",outcome=\"error\"} 1"), "\(text)")
        #expect(text.components(separatedBy: "# TYPE zgrid_call_duration_seconds histogram").count == 2, "\(text)")
        #expect(text.contains("zgrid_call_duration_seconds_bucket{function=\"resize\",le=\"0.0005\"} 1"), "\(text)")
        #expect(text.contains("zgrid_call_duration_seconds_bucket{function=\"resize\",le=\"5.0\"} 2"), "\(text)")
        #expect(text.contains("zgrid_call_duration_seconds_count{function=\"resize\"} 2"), "\(text)")
        #expect(text.contains("zgrid_calls_total{function=\"(other)\",outcome=\"error\"} 1"), "a call no worker served: \(text)")
        let again = String(decoding: observer.prometheusText(), as: UTF8.self)
        #expect(again.contains("zgrid_calls_total{function=\"resize\",outcome=\"ok\"} 1"), "a second scrape adds nothing: \(again)")
    }

    @Test("a function really called 'other' keeps its own metrics label, apart from the '(other)' fold of unserved names")
    func realFunctionNamedOther() {
        let observer = BrokerObserver()
        observer.callsEnded(
            [
                CallCompletion(function: "other", arrivedAt: 1_000, succeeded: true),
                CallCompletion(function: "other", arrivedAt: 1_000, succeeded: true),
                CallCompletion(function: nil, arrivedAt: 1_000, succeeded: false),
            ], now: 2_000)
        let text = String(decoding: observer.prometheusText(), as: UTF8.self)
        let expected = [
            #"zgrid_calls_total{function="other",outcome="ok"} 2"#, #"zgrid_calls_total{function="other",outcome="error"} 0"#,
            #"zgrid_calls_total{function="(other)",outcome="error"} 1"#, #"zgrid_call_duration_seconds_count{function="other"} 2"#,
            #"zgrid_call_duration_seconds_count{function="(other)"} 1"#,
        ]
        for line in expected { #expect(text.contains(line), "\(text)") }
        let reports = observer.functionReports([:])
        #expect(reports.first { $0.name == "other" }?.succeeded == 2)
        #expect(reports.first { $0.name == StatusReport.Function.otherName }?.failed == 1)
        #expect(!FunctionName.isValid(StatusReport.Function.otherName))
    }
}
