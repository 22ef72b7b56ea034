// invariants_test.go - what the manifests must say for raftkv to work on
// Kubernetes: one node per pod with three containers sharing a socket
// emptyDir and a data PVC, the node id from the ordinal, peers named by the
// headless Service (in the right namespace), probes, resources, security.
package k8s

import (
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

var roles = []string{"raftd", "storaged", "gatewayd"}

// minGraceSeconds: raftd's leadership handoff (bounded at 3 s), its final
// fsync, and gatewayd's 2 s drain, with room to spare.
const minGraceSeconds = 10

// cluster is the one raftkv deployment the manifests describe.
type cluster struct {
	ns       string
	set      *appsv1.StatefulSet
	headless *corev1.Service
	client   *corev1.Service
}

func loadCluster(t *testing.T) (*manifests, *cluster) {
	t.Helper()
	m, err := loadManifests(k8sDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.namespaces) != 1 || len(m.sets) != 1 {
		t.Fatalf("want 1 Namespace and 1 StatefulSet, have %d and %d",
			len(m.namespaces), len(m.sets))
	}
	c := &cluster{ns: m.namespaces[0].Name, set: m.sets[0]}
	for _, s := range m.services {
		if s.Name == c.set.Spec.ServiceName {
			c.headless = s
		} else {
			c.client = s
		}
	}
	if c.headless == nil || c.client == nil || len(m.services) != 2 {
		t.Fatalf("want the headless Service %q named by the StatefulSet and one client "+
			"Service, have %d Services", c.set.Spec.ServiceName, len(m.services))
	}
	return m, c
}

func envOf(ct *corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range ct.Env {
		env[e.Name] = e.Value
	}
	return env
}

func containerByName(spec *corev1.PodSpec, name string) *corev1.Container {
	for i := range spec.Containers {
		if spec.Containers[i].Name == name {
			return &spec.Containers[i]
		}
	}
	return nil
}

func portByName(ct *corev1.Container, name string) int32 {
	for _, p := range ct.Ports {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	return 0
}

func TestEveryObjectInTheNamespace(t *testing.T) {
	m, c := loadCluster(t)
	var names []string
	check := func(kind, name, ns string) {
		if ns != c.ns {
			t.Errorf("%s %s is in namespace %q, not %q", kind, name, ns, c.ns)
		}
		names = append(names, kind+"/"+name)
	}
	for _, s := range m.services {
		check("Service", s.Name, s.Namespace)
	}
	for _, s := range m.sets {
		check("StatefulSet", s.Name, s.Namespace)
	}
	for _, p := range m.pdbs {
		check("PodDisruptionBudget", p.Name, p.Namespace)
	}
	t.Logf("checked: %s all in namespace %q", strings.Join(names, ", "), c.ns)
}

func TestStatefulSetShape(t *testing.T) {
	_, c := loadCluster(t)
	s := c.set.Spec
	if s.Replicas == nil || *s.Replicas != 3 {
		t.Errorf("replicas = %v, want 3", s.Replicas)
	}
	if s.PodManagementPolicy != appsv1.ParallelPodManagement {
		t.Errorf("podManagementPolicy = %q, want Parallel (a pod is ready only once the "+
			"cluster has a leader, so OrderedReady never starts pod 1)", s.PodManagementPolicy)
	}
	pod := &s.Template.Spec
	if len(pod.Containers) != 3 {
		t.Fatalf("%d containers, want 3 (raftd, storaged, gatewayd)", len(pod.Containers))
	}
	for _, r := range roles {
		ct := containerByName(pod, r)
		if ct == nil {
			t.Fatalf("no container %q", r)
		}
		want := []string{"/usr/bin/" + r}
		if r == "raftd" { // raftkv-pod execs raftd as a seed or a joiner (scale_test.go)
			want = []string{"/usr/bin/raftkv-pod", "raftd"}
		}
		if strings.Join(ct.Command, " ") != strings.Join(want, " ") {
			t.Errorf("%s: command %v, want %v", r, ct.Command, want)
		}
		if ct.ImagePullPolicy != corev1.PullIfNotPresent {
			t.Errorf("%s: imagePullPolicy %q, want IfNotPresent (the image is built "+
				"locally, e.g. into minikube's Docker)", r, ct.ImagePullPolicy)
		}
	}
	sel := s.Selector.MatchLabels
	for k, v := range sel {
		if s.Template.Labels[k] != v {
			t.Errorf("selector %s=%s does not match the pod template's labels", k, v)
		}
	}
	if pod.TerminationGracePeriodSeconds == nil ||
		*pod.TerminationGracePeriodSeconds < minGraceSeconds {
		t.Errorf("terminationGracePeriodSeconds %v, want >= %d for the leader handoff",
			pod.TerminationGracePeriodSeconds, minGraceSeconds)
	}
	t.Logf("checked: 3 replicas, Parallel, containers %v each running its own binary, "+
		"IfNotPresent, selector matches, grace %d s", roles, *pod.TerminationGracePeriodSeconds)
}

func TestSharedVolumes(t *testing.T) {
	_, c := loadCluster(t)
	pod := &c.set.Spec.Template.Spec
	var sockVol string
	for _, v := range pod.Volumes {
		if v.EmptyDir != nil {
			sockVol = v.Name
		}
	}
	if sockVol == "" {
		t.Fatal("no emptyDir volume for the sockets")
	}
	if len(c.set.Spec.VolumeClaimTemplates) != 1 {
		t.Fatalf("%d volumeClaimTemplates, want 1 (data)", len(c.set.Spec.VolumeClaimTemplates))
	}
	pvc := c.set.Spec.VolumeClaimTemplates[0]
	if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		t.Errorf("the data claim requests no storage size")
	}
	for _, r := range roles {
		ct := containerByName(pod, r)
		env := envOf(ct)
		mounts := map[string]string{}
		for _, vm := range ct.VolumeMounts {
			mounts[vm.Name] = vm.MountPath
		}
		// the socket directory is a subdirectory of the shared emptyDir: the
		// daemons create it 0700 and refuse one others can enter (an emptyDir
		// itself is 2777), so every container must name the same one inside it
		if mounts[sockVol] == "" || env["RAFTKV_SOCK_DIR"] != mounts[sockVol]+"/sock" {
			t.Errorf("%s: socket volume %q at %q, RAFTKV_SOCK_DIR %q: want the volume's sock/",
				r, sockVol, mounts[sockVol], env["RAFTKV_SOCK_DIR"])
		}
		if mounts[pvc.Name] == "" || mounts[pvc.Name] != env["RAFTKV_DATA_DIR"] {
			t.Errorf("%s: data claim %q at %q, RAFTKV_DATA_DIR %q: want both, equal",
				r, pvc.Name, mounts[pvc.Name], env["RAFTKV_DATA_DIR"])
		}
	}
	t.Logf("checked: every container mounts emptyDir %q with its RAFTKV_SOCK_DIR at sock/ in it and claim %q "+
		"at its RAFTKV_DATA_DIR", sockVol, pvc.Name)
}

// peerNames is what the headless Service makes of each pod:
// <set>-<ordinal>.<service>.<namespace>.svc.cluster.local.
func peerName(c *cluster, ordinal int) string {
	return fmt.Sprintf("%s-%d.%s.%s.svc.cluster.local", c.set.Name, ordinal,
		c.headless.Name, c.ns)
}

func TestNodeIdAndPeers(t *testing.T) {
	_, c := loadCluster(t)
	pod := &c.set.Spec.Template.Spec
	n := int(*c.set.Spec.Replicas)
	raftd, gw := containerByName(pod, "raftd"), containerByName(pod, "gatewayd")
	raftPort, httpPort := portByName(raftd, "raft"), portByName(gw, "http")
	if raftPort == 0 || httpPort == 0 {
		t.Fatalf("raftd needs a port named raft and gatewayd one named http")
	}
	var peers, gws []string
	for i := 0; i < n; i++ {
		peers = append(peers, fmt.Sprintf("%d=%s:%d", i+1, peerName(c, i), raftPort))
	}
	for i := 0; i < k8sMaxPods; i++ { // every pod a scale-up may add
		gws = append(gws, fmt.Sprintf("%d=https://%s:%d", i+1, peerName(c, i), httpPort))
	}
	for _, r := range roles {
		env := envOf(containerByName(pod, r))
		if env["RAFTKV_NODE_ID_FROM_HOSTNAME"] != "true" {
			t.Errorf("%s: RAFTKV_NODE_ID_FROM_HOSTNAME is %q, want true", r,
				env["RAFTKV_NODE_ID_FROM_HOSTNAME"])
		}
		if _, ok := env["RAFTKV_NODE_ID"]; ok {
			t.Errorf("%s: a fixed RAFTKV_NODE_ID in a pod template gives every pod the same id", r)
		}
	}
	if got := envOf(raftd)["RAFTKV_PEERS"]; got != strings.Join(peers, ",") {
		t.Errorf("raftd RAFTKV_PEERS\n  is   %s\n  want %s", got, strings.Join(peers, ","))
	}
	if got := envOf(gw)["RAFTKV_GATEWAYS"]; got != strings.Join(gws, ",") {
		t.Errorf("gatewayd RAFTKV_GATEWAYS\n  is   %s\n  want %s", got, strings.Join(gws, ","))
	}
	if got, want := envOf(gw)["RAFTKV_LISTEN"], fmt.Sprintf("0.0.0.0:%d", httpPort); got != want {
		t.Errorf("gatewayd RAFTKV_LISTEN %q, want %q (all interfaces, the http port)", got, want)
	}
	t.Logf("checked: node id from the ordinal in all 3 containers; RAFTKV_PEERS = %s; "+
		"RAFTKV_GATEWAYS names the %d pods a scale-up may have; gatewayd listens on :%d",
		strings.Join(peers, ","), k8sMaxPods, httpPort)
}

func TestServices(t *testing.T) {
	_, c := loadCluster(t)
	h := c.headless.Spec
	if h.ClusterIP != corev1.ClusterIPNone {
		t.Errorf("headless Service clusterIP %q, want None", h.ClusterIP)
	}
	if !h.PublishNotReadyAddresses {
		t.Errorf("headless Service must publishNotReadyAddresses: peers resolve before ready")
	}
	labels := c.set.Spec.Template.Labels
	for _, s := range []*corev1.Service{c.headless, c.client} {
		for k, v := range s.Spec.Selector {
			if labels[k] != v {
				t.Errorf("Service %s selector %s=%s matches no pod", s.Name, k, v)
			}
		}
		if len(s.Spec.Selector) == 0 {
			t.Errorf("Service %s has no selector", s.Name)
		}
	}
	named := map[string]bool{}
	for _, ct := range c.set.Spec.Template.Spec.Containers {
		for _, p := range ct.Ports {
			named[p.Name] = true
		}
	}
	for _, s := range []*corev1.Service{c.headless, c.client} {
		for _, p := range s.Spec.Ports {
			if p.TargetPort.Type != intstr.String || !named[p.TargetPort.StrVal] {
				t.Errorf("Service %s port %s targets %v, not a named container port",
					s.Name, p.Name, p.TargetPort.String())
			}
		}
	}
	t.Logf("checked: headless %s (None, publishNotReadyAddresses), client %s; selectors "+
		"match the pods, ports target named container ports", c.headless.Name, c.client.Name)
}

func TestDisruptionBudget(t *testing.T) {
	m, c := loadCluster(t)
	if len(m.pdbs) != 1 {
		t.Fatalf("%d PodDisruptionBudgets, want 1", len(m.pdbs))
	}
	p := m.pdbs[0].Spec
	if p.MaxUnavailable == nil || p.MaxUnavailable.IntValue() != 1 || p.MinAvailable != nil {
		t.Errorf("want maxUnavailable 1 and no minAvailable")
	}
	for k, v := range p.Selector.MatchLabels {
		if c.set.Spec.Template.Labels[k] != v {
			t.Errorf("PDB selector %s=%s matches no pod", k, v)
		}
	}
	t.Logf("checked: PodDisruptionBudget maxUnavailable 1 over the raftkv pods")
}

func TestProbes(t *testing.T) {
	_, c := loadCluster(t)
	pod := &c.set.Spec.Template.Spec
	gw := containerByName(pod, "gatewayd")
	for _, p := range []struct {
		name  string
		probe *corev1.Probe
		path  string
	}{{"liveness", gw.LivenessProbe, "/livez"}, {"readiness", gw.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("gatewayd: no httpGet %s probe", p.name)
			continue
		}
		g := p.probe.HTTPGet
		if g.Path != p.path || g.Port.StrVal != "http" {
			t.Errorf("gatewayd %s probe: %s on port %s, want %s on http", p.name, g.Path,
				g.Port.String(), p.path)
		}
	}
	for _, r := range []string{"raftd", "storaged"} {
		ct := containerByName(pod, r)
		if ct.LivenessProbe != nil || ct.ReadinessProbe != nil {
			t.Errorf("%s has a probe: it has no HTTP port, and one through gatewayd would "+
				"restart it whenever the cluster loses quorum (see 20-statefulset.yaml)", r)
		}
	}
	t.Logf("checked: gatewayd liveness /livez and readiness /readyz on port http; " +
		"raftd and storaged without probes")
}

func TestResourcesAndSecurity(t *testing.T) {
	_, c := loadCluster(t)
	pod := &c.set.Spec.Template.Spec
	ps := pod.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil ||
		*ps.RunAsUser != 10001 || ps.FSGroup == nil || *ps.FSGroup != 10001 {
		t.Errorf("pod securityContext must be runAsNonRoot, runAsUser 10001, fsGroup 10001")
	}
	for _, ct := range append(append([]corev1.Container{}, pod.InitContainers...), pod.Containers...) {
		for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if _, ok := ct.Resources.Requests[res]; !ok {
				t.Errorf("%s: no %s request", ct.Name, res)
			}
			if _, ok := ct.Resources.Limits[res]; !ok {
				t.Errorf("%s: no %s limit", ct.Name, res)
			}
		}
		sc := ct.SecurityContext
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 ||
			sc.Capabilities.Drop[0] != "ALL" || len(sc.Capabilities.Add) != 0 {
			t.Errorf("%s: want readOnlyRootFilesystem, no privilege escalation, drop ALL", ct.Name)
		}
	}
	t.Logf("checked: pod runs as 10001 (non-root, fsGroup 10001); every container (and the init one) has cpu " +
		"and memory requests and limits, a read-only root, no escalation, no capabilities")
}
