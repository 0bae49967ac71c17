import Containers
import Database
import JSON

/// The project's networks and volumes: made when missing (with Compose's labels), an external
/// one must exist, and `down` removes those the project made.
extension ComposeEngine {
    /// Networks the project needs that are missing; returns the names made (for a rollback).
    func ensureNetworks(for services: [ComposeService]) throws(SwctrError) -> [String] {
        let used = Set(services.flatMap { s in s.networkMode == nil ? (s.networks.isEmpty ? ["default"] : s.networks.map(\.name)) : [] })
        var made: [String] = []
        for n in project.networks where used.contains(n.key) {
            if (try? manager.network(n.name)) != nil { continue }
            guard !n.external else {
                throw SwctrError(.notFound, "network \(n.name) declared as external, but could not be found")
            }
            var r = NetworkRequest(name: n.name)
            r.driver = n.driver ?? "bridge"
            r.subnet = n.subnet
            r.gateway = n.gateway
            r.ipRange = n.ipRange
            r.isInternal = n.isInternal
            r.options = n.driverOpts
            r.labels = n.labels.merging([ComposeLabel.project: project.name, ComposeLabel.network: n.key]) { $1 }
            do { try manager.createNetwork(r) } catch where error.code == .conflict {
                continue  // made by a concurrent up
            }
            made.append(n.name)
            report(" ✔ Network \(n.name)  Created")
        }
        return made
    }

    /// Named volumes the project's services use that are missing; returns the names made.
    func ensureVolumes(for services: [ComposeService]) throws(SwctrError) -> [String] {
        let used = Set(services.flatMap { $0.volumes.filter { $0.type == .volume && !$0.source.isEmpty }.map(\.source) })
        var made: [String] = []
        for v in project.volumes where used.contains(v.key) {
            if (try? manager.volume(v.name)) != nil { continue }
            guard !v.external else {
                throw SwctrError(.notFound, "external volume \"\(v.name)\" not found")
            }
            _ = try manager.createVolume(name: v.name, labels: v.labels.merging([ComposeLabel.project: project.name, ComposeLabel.volume: v.key]) { $1 },
                                     options: v.driverOpts)
            made.append(v.name)
            report(" ✔ Volume \"\(v.name)\"  Created")
        }
        return made
    }

    /// The project's own networks (not external ones), removed when they exist and nothing uses them.
    func removeNetworks() {
        for n in project.networks where !n.external {
            // Only a network this project made (a same-named one of the user's stays).
            guard let record = try? manager.network(n.name), record.labels.contains(ComposeLabel.project) else { continue }
            do {
                try manager.removeNetwork(n.name)
                report(" ✔ Network \(n.name)  Removed")
            } catch {
                report(" ✘ Network \(n.name)  \(error.message)")
            }
        }
    }

    func removeVolumes() {
        for v in project.volumes where !v.external {
            guard (try? manager.volume(v.name)) != nil else { continue }
            do {
                try manager.removeVolume(v.name, force: false)
                report(" ✔ Volume \(v.name)  Removed")
            } catch {
                report(" ✘ Volume \(v.name)  \(error.message)")
            }
        }
    }
}
