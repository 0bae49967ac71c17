import Database
import FoundationEssentials
import HostOS
import Logs
import Monitor

/// A container as it really is: its row, its options, and the monitor's state checked against
/// the processes themselves — a monitor or an init that is gone (killed, or a reboot) is never
/// shown as "Up".
public struct ContainerView: Sendable {
    public enum Status: String, Sendable { case created, running, paused, restarting, exited, dead }

    public var row: ContainerRow
    public var options: ContainerConfig
    public var state: ContainerState
    public var status: Status
    /// The monitor is gone but the container's process still runs.
    public var orphaned = false

    public var isRunning: Bool { status == .running || status == .paused || status == .restarting }

    public static func reconcile(row: ContainerRow, options: ContainerConfig, state: ContainerState?, paused: Bool) -> ContainerView {
        guard var s = state else {
            return ContainerView(row: row, options: options, state: ContainerState(), status: .created)
        }
        var status: Status
        var orphaned = false
        switch s.status {
        case .created: status = .created
        case .exited: status = .exited
        case .dead: status = .dead
        case .running, .restarting:
            if s.monitorAlive {
                status = s.status == .restarting ? .restarting : .running
            } else if s.status == .running && s.initAlive {
                status = .running
                orphaned = true
            } else {
                // The monitor died (or the host rebooted) without recording an exit.
                status = .exited
                if s.status == .running { s.exitCode = 255 }
                s.error = s.error.isEmpty ? "the container's monitor is gone" : s.error
                if s.finishedAt == ContainerState.zeroTime { s.finishedAt = s.startedAt }
            }
        }
        if status == .running && paused { status = .paused }
        return ContainerView(row: row, options: options, state: s, status: status, orphaned: orphaned)
    }

    /// `ps`'s STATUS column, in Docker's words.
    public func statusText(now: Double = Date().timeIntervalSince1970) -> String {
        switch status {
        case .created: return "Created"
        case .running, .paused:
            var text = "Up \(Self.humanDuration(now - Self.seconds(state.startedAt)))"
            if let h = state.health, options.healthcheck.map({ $0.test != ["NONE"] }) ?? false {
                text += h.status == .starting ? " (health: starting)" : " (\(h.status.rawValue))"
            }
            if status == .paused { text += " (Paused)" }
            return text
        case .restarting:
            return "Restarting (\(state.exitCode)) \(Self.humanDuration(now - Self.seconds(state.finishedAt))) ago"
        case .exited:
            return "Exited (\(state.exitCode)) \(Self.humanDuration(now - Self.seconds(state.finishedAt))) ago"
        case .dead: return "Dead"
        }
    }

    /// Docker's State.Status.
    public var stateName: String { status.rawValue }

    static func seconds(_ rfc3339: String) -> Double {
        guard let n = LogTime.parseRFC3339(rfc3339) else { return 0 }
        return Double(n) / 1e9
    }

    /// Docker's units.HumanDuration.
    public static func humanDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        if s < 1 { return "Less than a second" }
        if s == 1 { return "1 second" }
        if s < 60 { return "\(s) seconds" }
        let m = s / 60
        if m == 1 { return "About a minute" }
        if m < 60 { return "\(m) minutes" }
        let h = Int((seconds / 3600).rounded())
        if h == 1 { return "About an hour" }
        if h < 48 { return "\(h) hours" }
        if h < 24 * 7 * 2 { return "\(h / 24) days" }
        if h < 24 * 30 * 2 { return "\(h / 24 / 7) weeks" }
        if h < 24 * 365 * 2 { return "\(h / 24 / 30) months" }
        return "\(h / 24 / 365) years"
    }
}

