import Containers
import Database
import OCI
import Testing

@Suite("-v, --mount and --tmpfs as Docker reads them, and the OCI mounts they become")
struct MountTests {
    @Test func volumeFlags() throws {
        let named = try MountSpec.volumeFlag("data:/var/lib/db:ro")
        #expect(named.type == .volume && named.source == "data" && named.target == "/var/lib/db" && named.readOnly && !named.anonymous)
        let bind = try MountSpec.volumeFlag("/srv/www:/usr/share/www:rw,rslave")
        #expect(bind.type == .bind && bind.source == "/srv/www" && !bind.readOnly && bind.propagation == "rslave" && bind.createHostPath)
        let anonymous = try MountSpec.volumeFlag("/cache")
        #expect(anonymous.type == .volume && anonymous.source.isEmpty && anonymous.anonymous)
        #expect(try MountSpec.volumeFlag("data:/x:nocopy").noCopy)
        for bad in ["relative", "./rel:/x", "bad name:/x", "data:relative", "a:/b:c:d", "data:/x:sideways", ":/x", "/a::ro"] {
            #expect(throws: SwctrError.self, "\(bad)") { try MountSpec.volumeFlag(bad) }
        }
    }

    @Test func mountAndTmpfsFlags() throws {
        let m = try MountSpec.mountFlag("type=bind,src=/host,dst=/ctr,readonly,bind-propagation=shared")
        #expect(m.type == .bind && m.source == "/host" && m.target == "/ctr" && m.readOnly && m.propagation == "shared" && !m.createHostPath)
        let v = try MountSpec.mountFlag("target=/data,volume-nocopy")
        #expect(v.type == .volume && v.anonymous && v.noCopy)
        let t = try MountSpec.mountFlag("type=tmpfs,destination=/run/x,tmpfs-size=64m,tmpfs-mode=1770")
        #expect(t.tmpfsOptions == ["size=\(64 << 20)", "mode=1770"])
        for bad in ["type=bind,target=/x", "type=bind,source=rel,target=/x", "type=tmpfs,source=a,target=/x", "source=v",
                    "type=nfs,target=/x", "target=/x,colour=red", "target=/x,readonly=maybe", "target=/x,tmpfs-mode=9z"] {
            #expect(throws: SwctrError.self, "\(bad)") { try MountSpec.mountFlag(bad) }
        }
        let tmp = try MountSpec.tmpfsFlag("/tmp:rw,size=1m,exec")
        #expect(tmp.type == .tmpfs && tmp.tmpfsOptions == ["size=1m", "exec"] && !tmp.readOnly)
        #expect(throws: SwctrError.self) { try MountSpec.tmpfsFlag("tmp") }
    }

    @Test func ociMounts() throws {
        let volume = try MountSpec.volumeFlag("data:/db:ro")
        #expect(ContainerManager.ociMount(volume, volumeData: "/store/volumes/data/_data")
                == Mount(destination: "/db", type: "bind", source: "/store/volumes/data/_data", options: ["rbind", "ro", "rprivate"]))
        let tmpfs = try MountSpec.tmpfsFlag("/t:size=1m,exec")
        #expect(ContainerManager.ociMount(tmpfs, volumeData: nil)
                == Mount(destination: "/t", type: "tmpfs", source: "tmpfs", options: ["nosuid", "nodev", "size=1m", "rw"]))
        // A volume made with -o type=tmpfs,device=tmpfs,o=size=8m mounts as that when used.
        let driven = ContainerManager.ociMount(try MountSpec.volumeFlag("scratch:/s"), volumeData: "/v",
                                               driverOptions: ["type": "tmpfs", "device": "tmpfs", "o": "size=8m"])
        #expect(driven == Mount(destination: "/s", type: "tmpfs", source: "tmpfs", options: ["size=8m", "rw"]))
    }
}
