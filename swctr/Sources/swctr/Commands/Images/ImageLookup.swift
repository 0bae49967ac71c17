import ArgumentParser
import Database
import FoundationEssentials
import Glibc
import HostOS
import Images
import Registry



func openStore(_ global: Global) -> ImageStore {
    do { return try ImageStore(root: global.root) } catch { fail("\(error)") }
}

func findImage(_ store: ImageStore, _ name: String) -> ImageRecord {
    do {
        guard let r = try store.image(name) else { fail("image not found: \(name)") }
        return r
    } catch { fail("\(error)") }
}
