// pods_test.go - runs the StatefulSet's pods as Docker containers, with
// exactly the commands, arguments, environment, volumes, users and limits
// written in k8s/ (read from the manifests, never repeated here), and checks
// that they form a working cluster.
//
// Each pod: a holder container (Kubernetes' "pause" container; here the
// image's storaged idling on a scratch directory, since the image has nothing
// like sleep) owns the pod's network namespace, with the pod's host name
// (raftkv-0) and, on a user-defined network, the alias the headless Service
// would give it (raftkv-0.raftkv-peers.raftkv.svc.cluster.local); the pod's
// containers join it (--network container:...), as containers of a pod share
// one network namespace and host name, which outlives each of them. emptyDir and claim volumes
// become Docker volumes per pod; the Secret volume is the Secret `make certs`
// writes (RAFTKV_K8S_SECRET, secret_test.go) as files root:fsGroup with the
// volume's defaultMode, as the kubelet writes them. Env from the downward API
// (metadata.name) and $(VAR) references are expanded as the kubelet does.
// Runs only with RAFTKV_K8S_DOCKER=1 (make k8s-test sets it when a Docker
// engine answers, and writes the Secret).
package k8s

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// podRun is one pod of the StatefulSet running as containers.
type podRun struct {
	ordinal int
	name    string            // raftkv-0
	fqdn    string            // raftkv-0.raftkv-peers.raftkv.svc.cluster.local
	volumes map[string]string // pod volume name -> Docker volume
	first   string            // the holder ("pause") container of the network namespace
	url     string            // gatewayd's http port as published on 127.0.0.1
	// what the init containers printed at the pod's last start, and the preStop
	// hooks at its last stop
	initLogs, preStopLogs string
}

type podHarness struct {
	t      *testing.T
	c      *cluster
	prefix string
	net    string
	pods   []*podRun
	// the last log lines of containers stopped and removed, shown on failure
	stoppedLogs []string
	secret      string // the host directory of the Secret volume (secret_test.go)
}

// containerArgs turns one container of the pod template into docker run flags.
func (h *podHarness) containerArgs(p *podRun, ct *corev1.Container) []string {
	spec := &h.c.set.Spec.Template.Spec
	args := []string{"run", "-d", "--name", h.prefix + "-" + p.name + "-" + ct.Name,
		"--label", "raftkv-test=" + h.prefix}
	if isInit(spec, ct) { // runs to its end before the containers start, as the kubelet does
		args = []string{"run", "--rm", "--name", h.prefix + "-" + p.name + "-" + ct.Name,
			"--label", "raftkv-test=" + h.prefix}
	}
	if ps := spec.SecurityContext; ps != nil {
		if ps.RunAsUser != nil {
			u := fmt.Sprint(*ps.RunAsUser)
			if ps.RunAsGroup != nil {
				u += fmt.Sprintf(":%d", *ps.RunAsGroup)
			}
			args = append(args, "--user", u)
		}
		if ps.FSGroup != nil {
			args = append(args, "--group-add", fmt.Sprint(*ps.FSGroup))
		}
	}
	if sc := ct.SecurityContext; sc != nil {
		if sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
			args = append(args, "--read-only")
		}
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			args = append(args, "--security-opt", "no-new-privileges")
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Drop {
				args = append(args, "--cap-drop", string(c))
			}
		}
	}
	if m, ok := ct.Resources.Limits[corev1.ResourceMemory]; ok {
		args = append(args, "--memory", fmt.Sprint(m.Value()))
	}
	if c, ok := ct.Resources.Limits[corev1.ResourceCPU]; ok {
		args = append(args, "--cpus", fmt.Sprintf("%.3f", float64(c.MilliValue())/1000))
	}
	for _, kv := range h.containerEnv(p, ct) {
		args = append(args, "-e", kv)
	}
	for _, vm := range ct.VolumeMounts {
		v := p.volumes[vm.Name]
		if v == "" {
			h.t.Fatalf("%s mounts %q, which is neither a pod volume nor a claim", ct.Name, vm.Name)
		}
		mount := v + ":" + vm.MountPath
		if vm.ReadOnly {
			mount += ":ro"
		}
		args = append(args, "-v", mount)
	}
	args = append(args, "--network", "container:"+p.first)
	if spec.ShareProcessNamespace != nil && *spec.ShareProcessNamespace {
		// as the kubelet does: one pid namespace, its pid 1 the holder (the pause container)
		args = append(args, "--pid", "container:"+p.first)
	}
	if len(ct.Command) == 0 {
		h.t.Fatalf("%s: no command (the image has no useful entrypoint)", ct.Name)
	}
	args = append(args, "--entrypoint", ct.Command[0], imageOf(ct))
	args = append(args, ct.Command[1:]...)
	return append(args, ct.Args...)
}

// startPod creates the pod's volumes (the claim's only if missing: it
// outlives the pod) and runs its containers in manifest order.
func (h *podHarness) startPod(p *podRun) {
	spec := &h.c.set.Spec.Template.Spec
	for _, v := range spec.Volumes {
		if v.Secret != nil {
			continue // one host directory for every pod, made by newPodHarness
		}
		if v.EmptyDir == nil {
			h.t.Fatalf("pod volume %s: only emptyDir and secret are reproduced here", v.Name)
		}
		docker("volume", "rm", "-f", p.volumes[v.Name]) // an emptyDir starts empty
		mustDocker(h.t, "volume", "create", "--label", "raftkv-test="+h.prefix, p.volumes[v.Name])
	}
	for _, pvc := range h.c.set.Spec.VolumeClaimTemplates {
		if _, err := docker("volume", "inspect", p.volumes[pvc.Name]); err != nil {
			mustDocker(h.t, "volume", "create", "--label", "raftkv-test="+h.prefix,
				p.volumes[pvc.Name])
		}
	}
	h.startHolder(p)
	for i := range spec.InitContainers {
		ct := &spec.InitContainers[i]
		out, err := dockerCombined(h.containerArgs(p, ct)...)
		if err != nil {
			h.t.Fatalf("%s's init container %s failed (the kubelet would not start the pod): "+
				"%v\n%s", p.name, ct.Name, err, out)
		}
		p.initLogs += out
	}
	for i := range spec.Containers {
		mustDocker(h.t, h.containerArgs(p, &spec.Containers[i])...)
	}
	gw := containerByName(spec, "gatewayd")
	hostPort := mustDocker(h.t, "port", p.first, fmt.Sprint(portByName(gw, "http")))
	if i := strings.LastIndex(hostPort, ":"); i >= 0 {
		hostPort = hostPort[i+1:]
	}
	p.url = "https://127.0.0.1:" + strings.Fields(hostPort)[0]
}

// startHolder runs the pod's network namespace holder: host name, network
// alias, and every container port of the pod published on 127.0.0.1.
func (h *podHarness) startHolder(p *podRun) {
	spec := &h.c.set.Spec.Template.Spec
	args := []string{"run", "-d", "--name", p.first, "--label", "raftkv-test=" + h.prefix,
		"--hostname", p.name, "--network", h.net, "--network-alias", p.fqdn}
	for _, c := range spec.Containers {
		for _, port := range c.Ports {
			args = append(args, "-p", fmt.Sprintf("127.0.0.1::%d", port.ContainerPort))
		}
	}
	args = append(args, "--entrypoint", "/usr/bin/storaged", imageOf(&spec.Containers[0]),
		"--node-id", "99", "--data-dir", "/tmp/pause", "--map-bytes", "1048576",
		"--log-level", "error")
	mustDocker(h.t, args...)
}

// stopPod stops the pod's containers the way the kubelet does and removes
// them; the claim's volume stays. Returns raftd's log.
func (h *podHarness) stopPod(p *podRun) string {
	if err := h.terminate(p); err != nil {
		h.t.Fatal(err)
	}
	return h.removeStopped(p)
}

// terminate stops pod p's containers as the kubelet does, all at once: a
// container with a preStop exec hook first runs the hook's command from the
// manifest inside itself (docker exec, the container's environment; at most
// the grace period), then gets SIGTERM with what is left of the grace period;
// the others get SIGTERM at once. Safe to run for several pods in parallel
// (it never calls t.Fatal).
func (h *podHarness) terminate(p *podRun) error {
	spec := &h.c.set.Spec.Template.Spec
	grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	p.preStopLogs = ""
	start := time.Now()
	for i := range spec.Containers {
		ct := &spec.Containers[i]
		name := h.prefix + "-" + p.name + "-" + ct.Name
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out string
			if hook := ct.Lifecycle; hook != nil && hook.PreStop != nil {
				out = runPreStop(name, hook.PreStop, grace)
			}
			left := grace - time.Since(start)
			if left < 2*time.Second {
				left = 2 * time.Second // the kubelet's minimum after a hook
			}
			_, err := docker("stop", "-t", fmt.Sprint(int(left.Seconds())), name)
			mu.Lock()
			defer mu.Unlock()
			p.preStopLogs += out
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// removeStopped keeps the last log lines of p's stopped containers and
// removes them and the network namespace holder. Returns raftd's log.
func (h *podHarness) removeStopped(p *podRun) string {
	spec := &h.c.set.Spec.Template.Spec
	var names []string
	for i := len(spec.Containers) - 1; i >= 0; i-- {
		names = append(names, h.prefix+"-"+p.name+"-"+spec.Containers[i].Name)
	}
	logs, _ := dockerCombined("logs", h.prefix+"-"+p.name+"-raftd")
	for _, n := range names {
		out, _ := dockerCombined("logs", "--tail", "8", n)
		h.stoppedLogs = append(h.stoppedLogs, fmt.Sprintf("--- %s (stopped; last lines)\n%s", n, out))
	}
	if p.preStopLogs != "" {
		h.stoppedLogs = append(h.stoppedLogs, p.preStopLogs)
	}
	mustDocker(h.t, append([]string{"rm"}, names...)...)
	mustDocker(h.t, "rm", "-f", p.first) // the namespace goes last, as in a pod
	return logs
}

// runPreStop runs a preStop hook in the running container: an exec hook's
// command exactly as written (no shell, no $(VAR) expansion: the kubelet does
// neither), bounded by the grace period. Other hook kinds fail the test.
func runPreStop(container string, hook *corev1.LifecycleHandler, grace time.Duration) string {
	if hook.Exec == nil || len(hook.Exec.Command) == 0 {
		return fmt.Sprintf("--- preStop of %s: only exec hooks are reproduced here\n", container)
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	args := append([]string{"exec", container}, hook.Exec.Command...)
	out, err := exec.CommandContext(ctx, "docker", args...).CombinedOutput()
	return fmt.Sprintf("--- preStop %v of %s (%v)\n%s", hook.Exec.Command, container, err, out)
}

// imageOf is ct's image, or RAFTKV_K8S_IMAGE when set (make k8s-pods-bugs runs
// the pods from an image with a planted bug that way).
func imageOf(ct *corev1.Container) string {
	if img := os.Getenv("RAFTKV_K8S_IMAGE"); img != "" {
		return img
	}
	return ct.Image
}

// isInit says whether ct is one of the pod's init containers.
func isInit(spec *corev1.PodSpec, ct *corev1.Container) bool {
	for i := range spec.InitContainers {
		if &spec.InitContainers[i] == ct {
			return true
		}
	}
	return false
}

func (h *podHarness) ip(container string) string {
	return mustDocker(h.t, "inspect", "-f",
		"{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", container)
}

func (h *podHarness) cleanup() {
	if h.t.Failed() {
		for _, l := range h.stoppedLogs {
			h.t.Log(l)
		}
		for _, p := range h.pods {
			for _, ct := range h.c.set.Spec.Template.Spec.Containers {
				name := h.prefix + "-" + p.name + "-" + ct.Name
				out, _ := dockerCombined("logs", "--tail", "15", name)
				h.t.Logf("--- %s (last lines)\n%s", name, out)
			}
		}
	}
	ids, _ := docker("ps", "-aq", "--filter", "label=raftkv-test="+h.prefix)
	if ids != "" {
		docker(append([]string{"rm", "-f"}, strings.Fields(ids)...)...)
	}
	vols, _ := docker("volume", "ls", "-q", "--filter", "label=raftkv-test="+h.prefix)
	if vols != "" {
		docker(append([]string{"volume", "rm", "-f"}, strings.Fields(vols)...)...)
	}
	docker("network", "rm", h.net)
	h.t.Logf("removed the test's containers, volumes and network (%s)", h.prefix)
}

// newPodRun names pod `ordinal`'s containers and volumes (a claim's volume is
// named after the pod, so a pod scaled away and back gets its claim again).
func (h *podHarness) newPodRun(ordinal int) *podRun {
	c := h.c
	p := &podRun{ordinal: ordinal, name: fmt.Sprintf("%s-%d", c.set.Name, ordinal),
		fqdn: peerName(c, ordinal), volumes: map[string]string{}}
	for _, v := range c.set.Spec.Template.Spec.Volumes {
		p.volumes[v.Name] = h.prefix + "-" + p.name + "-" + v.Name
		if v.Secret != nil {
			p.volumes[v.Name] = h.secretDir(&v)
		}
	}
	for _, pvc := range c.set.Spec.VolumeClaimTemplates {
		p.volumes[pvc.Name] = h.prefix + "-" + pvc.Name + "-" + p.name
	}
	p.first = h.prefix + "-" + p.name + "-pause"
	return p
}

func newPodHarness(t *testing.T) *podHarness {
	_, c := loadCluster(t)
	h := &podHarness{t: t, c: c, prefix: fmt.Sprintf("rkvk8s-%d", os.Getpid())}
	h.net = h.prefix + "-net"
	for i := 0; i < int(*c.set.Spec.Replicas); i++ {
		h.pods = append(h.pods, h.newPodRun(i))
	}
	t.Cleanup(h.cleanup)
	mustDocker(t, "network", "create", "--label", "raftkv-test="+h.prefix, h.net)
	return h
}

func (h *podHarness) waitReady(p *podRun, limit time.Duration) {
	h.t.Helper()
	waitFor(h.t, p.name+" /readyz 200", limit, func() error {
		code, body := httpDo("GET", p.url+"/readyz", "", 2*time.Second)
		if code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
}

func TestPodsInDocker(t *testing.T) {
	if os.Getenv("RAFTKV_K8S_DOCKER") != "1" {
		t.Skip("SKIPPED: set RAFTKV_K8S_DOCKER=1 with a Docker engine and the raftkv " +
			"image (make k8s-test does both when docker info answers)")
	}
	h := newPodHarness(t)
	// pod 0 first, alone for a while: its peers' names do not resolve yet
	h.startPod(h.pods[0])
	time.Sleep(2 * time.Second)
	for _, p := range h.pods[1:] {
		h.startPod(p)
	}
	t.Logf("started %d pods x %d containers from the manifest (pod 0 two seconds "+
		"before its peers' names existed)", len(h.pods), len(h.c.set.Spec.Template.Spec.Containers))
	for _, p := range h.pods {
		h.waitReady(p, 60*time.Second)
	}
	h.checkIdentity()
	h.checkWriteReadAll("k8s/first", "v1", h.pods[1])
	h.checkCtlInPod(h.pods[0], "k8s/first", "v1")
	h.checkSecure()
	h.checkPodBackWithNewIP(h.pods[2])
	h.checkRollingRestart()
}

// checkIdentity: each pod's node id is its ordinal + 1 (from the host name)
// and its members carry the headless Service's names.
func (h *podHarness) checkIdentity() {
	for _, p := range h.pods {
		s, err := getStatus(p.url)
		if err != nil {
			h.t.Fatal(err)
		}
		if s.ID != uint64(p.ordinal+1) {
			h.t.Fatalf("%s says it is node %d, want %d", p.name, s.ID, p.ordinal+1)
		}
		if len(s.Members) != len(h.pods) {
			h.t.Fatalf("%s lists %d members, want %d", p.name, len(s.Members), len(h.pods))
		}
		for _, m := range s.Members {
			want := fmt.Sprintf("%s:%d", peerName(h.c, int(m.ID)-1),
				portByName(containerByName(&h.c.set.Spec.Template.Spec, "raftd"), "raft"))
			if m.PeerAddress != want {
				h.t.Fatalf("%s: member %d at %q, want %q", p.name, m.ID, m.PeerAddress, want)
			}
		}
	}
	h.t.Logf("checked: pods raftkv-0..%d are nodes 1..%d (node id from the host name), "+
		"members named by the headless Service", len(h.pods)-1, len(h.pods))
}

// checkWriteReadAll writes through one pod and reads (linearizable) from all.
func (h *podHarness) checkWriteReadAll(key, value string, via *podRun) {
	code, body := httpDo("PUT", via.url+"/v1/kv/"+key, value, 10*time.Second)
	if code != 200 {
		h.t.Fatalf("PUT %s via %s: %d %s", key, via.name, code, body)
	}
	for _, p := range h.pods {
		code, got := httpDo("GET", p.url+"/v1/kv/"+key, "", 10*time.Second)
		if code != 200 || got != value {
			h.t.Fatalf("GET %s from %s: %d %q, want 200 %q", key, p.name, code, got, value)
		}
	}
	h.t.Logf("checked: PUT %s=%s via %s, linearizable GET from all %d pods returns it",
		key, value, via.name, len(h.pods))
	h.checkLocalReads(key)
}

// checkLocalReads: every pod's gatewayd answers GETs of key from its node's
// LMDB (--local-reads), which needs the pod's shared pid namespace and data
// volume. A read its node has not applied yet goes to storaged instead, so
// each pod gets up to 20 reads to show one served locally.
func (h *podHarness) checkLocalReads(key string) {
	for _, p := range h.pods {
		served := ""
		for i := 0; i < 20 && (served == "" || served == "0"); i++ {
			httpDo("GET", p.url+"/v1/kv/"+key, "", 10*time.Second)
			code, body := httpDo("GET", p.url+"/metrics", "", 10*time.Second)
			if code != 200 {
				h.t.Fatalf("GET /metrics from %s: %d %s", p.name, code, body)
			}
			for _, line := range strings.Split(body, "\n") {
				if f := strings.Fields(line); len(f) == 2 && f[0] == "raftkv_local_reads_total" {
					served = f[1]
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if served == "" || served == "0" {
			h.t.Fatalf("%s served none of 20 GETs from its own LMDB: "+
				"raftkv_local_reads_total=%q", p.name, served)
		}
	}
	h.t.Logf("checked: every pod's gatewayd answered GETs from its node's LMDB")
}

// checkPodBackWithNewIP deletes a pod (SIGTERM, grace period), writes while
// it is gone, and brings it back with a new IP (a placeholder container
// takes the old one), as a rescheduled pod would come back: its peers must
// find it again by name and it must catch up from its claim.
func (h *podHarness) checkPodBackWithNewIP(p *podRun) {
	oldIP := h.ip(p.first)
	h.stopPod(p)
	mustDocker(h.t, "run", "-d", "--name", h.prefix+"-placeholder", "--label",
		"raftkv-test="+h.prefix, "--network", h.net, "--entrypoint", "/usr/bin/storaged",
		imageOf(&h.c.set.Spec.Template.Spec.Containers[0]), "--node-id", "99",
		"--data-dir", "/tmp/placeholder")
	phIP := h.ip(h.prefix + "-placeholder")
	var other *podRun
	for _, o := range h.pods {
		if o != p {
			other = o
			break
		}
	}
	code, body := httpDo("PUT", other.url+"/v1/kv/k8s/while-away", "v2", 10*time.Second)
	if code != 200 {
		h.t.Fatalf("PUT while %s is away, via %s: %d %s", p.name, other.name, code, body)
	}
	h.startPod(p)
	newIP := h.ip(p.first)
	h.t.Logf("%s deleted (old IP %s, now the placeholder's: %s), written to meanwhile, "+
		"back with IP %s", p.name, oldIP, phIP, newIP)
	if newIP == oldIP {
		h.t.Fatalf("%s came back with its old IP %s: the test proves nothing", p.name, oldIP)
	}
	h.waitReady(p, 60*time.Second)
	code, got := httpDo("GET", p.url+"/v1/kv/k8s/while-away", "", 10*time.Second)
	if code != 200 || got != "v2" {
		h.t.Fatalf("GET from %s after its return: %d %q, want 200 v2", p.name, code, got)
	}
	h.t.Logf("checked: %s is back under a new IP, found by name, caught up (reads v2)", p.name)
	h.checkWriteReadAll("k8s/after", "v3", p)
}

// checkCtlInPod runs raftkvctl in a pod's gatewayd container, as the README's
// `kubectl exec ... -c gatewayd -- /usr/bin/raftkvctl` does (no shell in the
// image; raftkvctl's default URL is the pod's own gateway).
func (h *podHarness) checkCtlInPod(p *podRun, key, want string) {
	name := h.prefix + "-" + p.name + "-gatewayd"
	got, err := docker("exec", name, "/usr/bin/raftkvctl", "get", key)
	if err != nil || got != want {
		h.t.Fatalf("raftkvctl get %s in %s: %q %v, want %q", key, name, got, err, want)
	}
	h.t.Logf("checked: raftkvctl get %s inside %s's gatewayd container returns %q", key,
		p.name, got)
}

// checkSecure: the pods run as the manifests say, secure: a request without
// the token is 401, plain http to the TLS port gets no answer, and every raftd
// listens with Curve.
func (h *podHarness) checkSecure() {
	p := h.pods[0]
	req, _ := http.NewRequest("GET", p.url+"/v1/kv/k8s/first", nil)
	c := &http.Client{Timeout: 5 * time.Second,
		Transport: &http.Transport{TLSClientConfig: clientTLS}}
	resp, err := c.Do(req)
	if err != nil || resp.StatusCode != 401 {
		h.t.Fatalf("GET without a token from %s: %v %v, want 401", p.name, resp, err)
	}
	resp.Body.Close()
	if code, body := httpDo("GET", "http"+strings.TrimPrefix(p.url, "https")+"/readyz", "",
		5*time.Second); code != 0 {
		h.t.Fatalf("plain http to %s's TLS port answered %d %s", p.name, code, body)
	}
	for _, q := range h.pods {
		logs, _ := dockerCombined("logs", h.prefix+"-"+q.name+"-raftd")
		if !strings.Contains(logs, "peers=curve") {
			h.t.Fatalf("%s's raftd does not say peers=curve:\n%s", q.name, logs)
		}
	}
	h.t.Logf("checked: no token 401, plain http to the TLS port unanswered, all %d raftd "+
		"peers on Curve", len(h.pods))
}
