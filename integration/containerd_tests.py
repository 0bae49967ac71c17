"""containerd 1.6 with swrunc: `ctr run --runc-binary` and the CRI plugin's BinaryName."""
import json
import os
import subprocess
import time

from harness import (Recorder, build_image_archive, run, stop_pid, unique, wait_for, remove_cgroup_tree, rmtree,
                     mkdtemp)

CRI_PROTO = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cri", "cri_subset.proto")


class Containerd:
    def __init__(self, tap, cleanup, swrunc, archive, image):
        self.tap = tap
        self.tmp = mkdtemp("swrunc-it-containerd-")
        cleanup.add("containerd tmp", lambda: rmtree(self.tmp))
        self.sock = os.path.join(self.tmp, "containerd.sock")
        self.ns = unique("it")
        self.rec = Recorder(self.tmp, swrunc, "containerd")
        self.runc_root = os.path.join(self.tmp, "swrunc-root")
        self.cri_root = os.path.join(self.tmp, "cri-root")
        self.image = image
        self.archive = archive
        # The CRI's sandbox ("pause") container: the same busybox, sleeping.
        self.pause_archive = os.path.join(self.tmp, "pause.tar")
        self.pause_image = build_image_archive(self.pause_archive, name="swrunc-pause",
                                               cmd=("sleep", "2147483647"))
        self.cri_cgroup = unique("swrunc-it-cri")
        cfg = os.path.join(self.tmp, "config.toml")
        with open(cfg, "w") as f:
            f.write(f"""version = 2
root = "{self.tmp}/root"
state = "{self.tmp}/state"
[grpc]
  address = "{self.sock}"
[ttrpc]
  address = "{self.sock}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{self.pause_image}"
  restrict_oom_score_adj = true
  enable_selinux = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "swrunc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.swrunc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.swrunc.options]
        BinaryName = "{self.rec.path}"
        Root = "{self.cri_root}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "{self.tmp}/cni"
""")
        os.makedirs(f"{self.tmp}/cni")
        self.log = open(os.path.join(self.tmp, "containerd.log"), "w")
        self.proc = subprocess.Popen(["containerd", "--config", cfg], stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        cleanup.add("containerd daemon", self.stop)
        cleanup.add("containerd cgroups", lambda: remove_cgroup_tree(self.ns))
        cleanup.add("CRI cgroups", lambda: remove_cgroup_tree(self.cri_cgroup))
        ok = wait_for(lambda: run(self.ctr("version"), timeout=5).returncode == 0, timeout=30)
        if not ok:
            raise RuntimeError("containerd did not come up: " + open(self.log.name).read()[-2000:])

    def stop(self):
        # CRI pods live in the k8s.io namespace.
        for ns in ["k8s.io", self.ns]:
            self.stop_namespace(ns)
        stop_pid(self.proc.pid)
        # Shims are their own session leaders; end the ones that served this daemon's socket.
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"containerd-shim-runc-v2") and self.sock.encode() in b" ".join(cmd):
                stop_pid(int(pid), timeout=5)

    def stop_namespace(self, ns):
        # Tasks first (the shims outlive containerd otherwise), then the daemon, by PID.
        ctr = ["ctr", "-a", self.sock, "-n", ns]
        r = run(ctr + ["task", "ls", "-q"], timeout=20)
        for t in r.stdout.split():
            run(ctr + ["task", "kill", "-s", "SIGKILL", t], timeout=20)
            run(ctr + ["task", "delete", "-f", t], timeout=30)
        r = run(ctr + ["container", "ls", "-q"], timeout=20)
        for c in r.stdout.split():
            run(ctr + ["container", "delete", c], timeout=30)

    def ctr(self, *args):
        return ["ctr", "-a", self.sock, "-n", self.ns] + list(args)

    def run_args(self, cid, *extra):
        return self.ctr("run", "--runc-binary", self.rec.path, "--runc-root", self.runc_root, *extra)

    def tests(self):
        t = self.tap
        # containerd 1.7+ reads `features` to learn what the runtime supports (1.6 does not ask):
        # the keys it reads must be there with the right types.
        r = run([self.rec.path, "features"])
        try:
            f = json.loads(r.stdout)
            lx = f["linux"]
            ok = (isinstance(f["ociVersionMin"], str) and isinstance(f["ociVersionMax"], str)
                  and "createRuntime" in f["hooks"] and "rbind" in f["mountOptions"]
                  and "user" in lx["namespaces"] and "CAP_SYS_ADMIN" in lx["capabilities"]
                  and isinstance(lx["cgroup"]["v1"], bool) and isinstance(lx["seccomp"]["enabled"], bool)
                  and isinstance(f.get("annotations", {}), dict))
        except (ValueError, KeyError, TypeError) as e:
            ok, r = False, f"{r.stdout[:300]} {e!r}"
        t.check(ok, "containerd: swrunc features has the fields containerd reads", r)
        r = run(self.ctr("image", "import", self.archive), timeout=120)
        if not t.check(r.returncode == 0, "containerd: ctr image import of the busybox archive", r.stderr):
            return
        # 1. run to completion with its exit status
        cid = unique("it")
        r = run(self.run_args(cid, "--rm", self.image, cid, "sh", "-c", "echo hi-from-ctr; exit 3"))
        t.check(r.returncode == 3 and "hi-from-ctr" in r.stdout,
                "containerd: ctr run --rm prints output and returns the exit status",
                f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")

        # 2. detached: exec (with and without tty), ps, pause/resume, metrics, kill, delete
        cid = unique("it")
        r = run(self.run_args(cid, "-d", "--memory-limit", str(64 << 20), self.image, cid, "sleep", "600"))
        if not t.check(r.returncode == 0, "containerd: ctr run -d with --memory-limit", r.stderr):
            return
        r = run(self.ctr("task", "exec", "--exec-id", "e1", cid, "sh", "-c", "echo exec-ok; id -u"))
        t.check(r.returncode == 0 and "exec-ok" in r.stdout and "0" in r.stdout, "containerd: ctr task exec",
                f"{r.stdout}\n{r.stderr}")
        # --tty wants a terminal on the client side: give it one with script(1).
        r = run(["script", "-qec", " ".join(self.ctr("task", "exec", "--tty", "--exec-id", "e2", cid,
                                                      "sh", "-c", "'tty; echo tty-ok'")), "/dev/null"])
        t.check(r.returncode == 0 and "tty-ok" in r.stdout and "/dev/pts/" in r.stdout,
                "containerd: ctr task exec --tty", f"{r.stdout}\n{r.stderr}")
        r = run(self.ctr("task", "ps", cid))
        t.check(r.returncode == 0 and len(r.stdout.strip().splitlines()) >= 2, "containerd: ctr task ps",
                f"{r.stdout}\n{r.stderr}")
        r = run(self.ctr("task", "pause", cid))
        st = run(self.ctr("task", "ls")).stdout
        t.check(r.returncode == 0 and "PAUSED" in st, "containerd: ctr task pause", f"{r.stderr}\n{st}")
        r = run(self.ctr("task", "resume", cid))
        st = run(self.ctr("task", "ls")).stdout
        t.check(r.returncode == 0 and "RUNNING" in st, "containerd: ctr task resume", f"{r.stderr}\n{st}")
        r = run(self.ctr("task", "metrics", "--format", "json", cid))
        try:
            m = json.loads(r.stdout)
        except ValueError:
            m = {}
        limit = (m.get("memory") or {}).get("usage", {}).get("limit") if isinstance(m, dict) else None
        t.check(r.returncode == 0 and limit == 64 << 20, "containerd: ctr task metrics reports the memory limit",
                f"{r.stdout[:800]}\n{r.stderr}")
        # the limit is enforced: a process that allocates past it is OOM-killed
        r = run(self.ctr("task", "exec", "--exec-id", "e3", cid, "sh", "-c",
                         "head -c 200m /dev/zero | tail > /dev/null && echo survived"), timeout=60)
        t.check("survived" not in r.stdout, "containerd: --memory-limit is enforced (200 MiB in a 64 MiB task)",
                f"exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        r = run(self.ctr("task", "checkpoint", cid))
        t.check(r.returncode != 0 and "checkpoint" in (r.stderr + r.stdout).lower(),
                "containerd: ctr task checkpoint fails with swrunc's message (no CRIU support)", r.stderr)
        # a second process in the task, then kill --all reaches both
        run(self.ctr("task", "exec", "-d", "--exec-id", "e4", cid, "sleep", "500"))
        r = run(self.ctr("task", "kill", "--all", "-s", "SIGKILL", cid))
        stopped = wait_for(lambda: "STOPPED" in run(self.ctr("task", "ls")).stdout, timeout=20)
        t.check(r.returncode == 0 and stopped, "containerd: ctr task kill --all", r.stderr)
        r = run(self.ctr("task", "delete", cid))
        r2 = run(self.ctr("container", "delete", cid))
        left = os.path.exists(os.path.join(self.runc_root, self.ns, cid))
        t.check(r.returncode == 0 and r2.returncode == 0 and not left,
                "containerd: ctr task delete + container delete leave no runtime state",
                f"{r.stderr}\n{r2.stderr}")

        # bad input: a missing binary comes back as containerd's error with swrunc's message
        cid = unique("it")
        r = run(self.run_args(cid, "--rm", self.image, cid, "/no/such/binary"))
        tasks = run(self.ctr("task", "ls", "-q")).stdout.split()
        t.check(r.returncode != 0 and "/no/such/binary" in (r.stderr + r.stdout) and cid not in tasks,
                "containerd: a missing binary fails with swrunc's message and leaves no task",
                f"exit {r.returncode}\n{r.stderr}")
        run(self.ctr("container", "delete", cid))
        cid = unique("it")
        d = os.path.join(self.tmp, "a-dir")
        os.makedirs(d, exist_ok=True)
        r = run(self.run_args(cid, "--rm", "--mount", f"type=bind,src={d},dst=/etc/passwd,options=rbind",
                              self.image, cid, "true"))
        left = [p for p in (f"/sys/fs/cgroup/memory/{self.ns}/{cid}", f"/sys/fs/cgroup/pids/{self.ns}/{cid}")
                if os.path.exists(p)]
        mounts = [l for l in open("/proc/self/mountinfo") if cid in l]
        t.check(r.returncode != 0 and "/etc/passwd" in (r.stderr + r.stdout) and not left and not mounts,
                "containerd: a bad mount fails with swrunc's message and leaves no cgroup or mount",
                f"exit {r.returncode} left {left} {mounts}\n{r.stderr}")
        run(self.ctr("container", "delete", cid))
        self.cri_tests()

    # ------------------------------------------------------------------ CRI (the Kubernetes road)

    def cri_tests(self):
        """The CRI plugin reads BinaryName from its runtime options (ctr and dockerd do not):
        RunPodSandbox, CreateContainer, StartContainer, ExecSync, UpdateContainerResources,
        ContainerStatus, StopContainer, RemoveContainer, StopPodSandbox, RemovePodSandbox."""
        t = self.tap
        try:
            import grpc
            from grpc_tools import protoc
        except ImportError as e:
            t.check(False, "CRI: grpcio and grpcio-tools are installed (make test installs them)", repr(e))
            return
        gen = os.path.join(self.tmp, "cri-gen")
        os.makedirs(gen)
        rc = protoc.main(["protoc", f"-I{os.path.dirname(CRI_PROTO)}", f"--python_out={gen}",
                          f"--grpc_python_out={gen}", CRI_PROTO])
        if not t.check(rc == 0, "CRI: client stubs generated from the CRI subset"):
            return
        import sys
        sys.path.insert(0, gen)
        import cri_subset_pb2 as pb
        import cri_subset_pb2_grpc as pbg
        r = run(["ctr", "-a", self.sock, "-n", "k8s.io", "image", "import", self.archive], timeout=120)
        r2 = run(["ctr", "-a", self.sock, "-n", "k8s.io", "image", "import", self.pause_archive], timeout=120)
        if not t.check(r.returncode == 0 and r2.returncode == 0, "CRI: images imported into k8s.io",
                       r.stderr + r2.stderr):
            return
        channel = grpc.insecure_channel(f"unix://{self.sock}")
        rt = pbg.RuntimeServiceStub(channel)
        v = rt.Version(pb.VersionRequest(version="v1"), timeout=30)
        t.check(v.runtime_name == "containerd", "CRI: Version over containerd's gRPC socket", v)

        logdir = os.path.join(self.tmp, "pod-logs")
        os.makedirs(logdir)
        sandbox = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name="swrunc-pod", uid=unique("uid"), namespace="default", attempt=0),
            # Host network means the host's UTS namespace: kubelet sends no hostname then (runc and
            # swrunc both refuse a hostname without a private UTS namespace).
            log_directory=logdir,
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent=f"/{self.cri_cgroup}",
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD))))
        pod_id = None
        try:
            pod_id = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=sandbox, runtime_handler="swrunc"),
                                      timeout=120).pod_sandbox_id
            t.check(bool(pod_id), "CRI: RunPodSandbox with runtime handler swrunc")
        except grpc.RpcError as e:
            t.check(False, "CRI: RunPodSandbox with runtime handler swrunc", e.details())
            return
        try:
            self.cri_container(t, rt, pb, pod_id, sandbox)
            self.cri_bad_container(t, rt, pb, pod_id, sandbox)
        finally:
            try:
                rt.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)
                rt.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=pod_id), timeout=60)
                t.check(True, "CRI: StopPodSandbox and RemovePodSandbox")
            except grpc.RpcError as e:
                t.check(False, "CRI: StopPodSandbox and RemovePodSandbox", e.details())
        used = [l for l in self.rec.lines() if self.cri_root in l]
        t.check(any(" create " in l for l in used) and any(" exec " in l for l in used),
                "CRI: containerd ran swrunc through the runtime's BinaryName (create and exec seen)",
                "\n".join(used[:10]))
        left = [d for d in os.listdir(os.path.join(self.cri_root, "k8s.io"))] \
            if os.path.isdir(os.path.join(self.cri_root, "k8s.io")) else []
        t.check(not left, "CRI: no swrunc state left after the pod is removed", left)

    def cri_container(self, t, rt, pb, pod_id, sandbox):
        import grpc
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="app", attempt=0), image=pb.ImageSpec(image=self.image),
            command=["sh", "-c", "echo cri-hello; exec sleep 600"], log_path="app.log",
            envs=[pb.KeyValue(key="CRI_TEST", value="yes")],
            linux=pb.LinuxContainerConfig(resources=pb.LinuxContainerResources(memory_limit_in_bytes=64 << 20,
                                                                               cpu_shares=256)))
        try:
            cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=cfg,
                                                               sandbox_config=sandbox), timeout=120).container_id
            rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=120)
        except grpc.RpcError as e:
            t.check(False, "CRI: CreateContainer + StartContainer", e.details())
            return
        st = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=30).status
        t.check(st.state == pb.CONTAINER_RUNNING, "CRI: CreateContainer + StartContainer: running", st)
        ex = rt.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=["sh", "-c",
                         "echo $CRI_TEST; cat /sys/fs/cgroup/memory/memory.limit_in_bytes"], timeout=30), timeout=60)
        out = ex.stdout.decode().split()
        t.check(ex.exit_code == 0 and out == ["yes", str(64 << 20)], "CRI: ExecSync sees env and the memory limit",
                f"{ex.exit_code} {ex.stdout} {ex.stderr}")
        try:
            rt.UpdateContainerResources(pb.UpdateContainerResourcesRequest(
                container_id=cid, linux=pb.LinuxContainerResources(memory_limit_in_bytes=96 << 20, cpu_shares=256)),
                timeout=60)
            ex = rt.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=["cat",
                             "/sys/fs/cgroup/memory/memory.limit_in_bytes"], timeout=30), timeout=60)
            t.check(ex.stdout.decode().strip() == str(96 << 20), "CRI: UpdateContainerResources (swrunc update)",
                    ex.stdout)
        except grpc.RpcError as e:
            t.check(False, "CRI: UpdateContainerResources (swrunc update)", e.details())
        log = os.path.join(sandbox.log_directory, "app.log")
        t.check(wait_for(lambda: "cri-hello" in open(log).read(), timeout=10), "CRI: container output in its log_path")
        rt.StopContainer(pb.StopContainerRequest(container_id=cid, timeout=2), timeout=60)
        st = rt.ContainerStatus(pb.ContainerStatusRequest(container_id=cid), timeout=30).status
        t.check(st.state == pb.CONTAINER_EXITED, "CRI: StopContainer", st)
        rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=60)

    def cri_bad_container(self, t, rt, pb, pod_id, sandbox):
        import grpc
        cfg = pb.ContainerConfig(metadata=pb.ContainerMetadata(name="bad", attempt=0),
                                 image=pb.ImageSpec(image=self.image), command=["/no/such/binary"],
                                 log_path="bad.log")
        cid = None
        try:
            cid = rt.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=pod_id, config=cfg,
                                                               sandbox_config=sandbox), timeout=120).container_id
            rt.StartContainer(pb.StartContainerRequest(container_id=cid), timeout=120)
            t.check(False, "CRI: a missing binary fails StartContainer with swrunc's message")
        except grpc.RpcError as e:
            t.check("/no/such/binary" in (e.details() or ""),
                    "CRI: a missing binary fails StartContainer with swrunc's message", e.details())
        if cid:
            rt.RemoveContainer(pb.RemoveContainerRequest(container_id=cid), timeout=60)
