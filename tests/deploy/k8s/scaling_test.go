// scaling_test.go - what the manifests must say for `kubectl scale` to change
// the membership by itself (docs/design.md, "Scaling a deployment"): the
// seeds are the initial replicas and the nodes of RAFTKV_PEERS; a pod beyond
// them joins through the seeds' gateways, advertising its own names; its
// preStop hook leaves within the grace period; the init container can empty
// the claim; every container that runs raftkv-pod agrees on the seeds.
package k8s

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// k8sMaxPods: the pods the Secret has material for (tools/certs.sh MAX_NODES).
const k8sMaxPods = 7

func TestScalingSeedsAndJoin(t *testing.T) {
	_, c := loadCluster(t)
	pod := &c.set.Spec.Template.Spec
	n := int(*c.set.Spec.Replicas)
	raftd, gw := containerByName(pod, "raftd"), containerByName(pod, "gatewayd")
	if len(pod.InitContainers) != 1 {
		t.Fatalf("%d init containers, want 1 (raftkv-pod init)", len(pod.InitContainers))
	}
	init := &pod.InitContainers[0]
	for _, ct := range []*corev1.Container{init, raftd, gw} {
		if got := envOf(ct)["RAFTKV_POD_SEEDS"]; got != strconv.Itoa(n) {
			t.Errorf("%s: RAFTKV_POD_SEEDS %q, want the initial replicas %d", ct.Name, got, n)
		}
	}
	if strings.Join(init.Command, " ") != "/usr/bin/raftkv-pod init" {
		t.Errorf("init container: command %v, want [/usr/bin/raftkv-pod init]", init.Command)
	}
	dataMounted := false
	for _, vm := range init.VolumeMounts {
		dataMounted = dataMounted || (vm.Name == c.set.Spec.VolumeClaimTemplates[0].Name &&
			vm.MountPath == envOf(init)["RAFTKV_DATA_DIR"] && !vm.ReadOnly)
	}
	if !dataMounted {
		t.Errorf("init container: the data claim must be mounted writable at its RAFTKV_DATA_DIR")
	}
	env := envOf(raftd)
	httpPort, raftPort := portByName(gw, "http"), portByName(raftd, "raft")
	var join []string
	for i := 0; i < n; i++ {
		join = append(join, fmt.Sprintf("https://%s:%d", peerName(c, i), httpPort))
	}
	want := map[string]string{
		"RAFTKV_JOIN":            strings.Join(join, ","),
		"RAFTKV_JOIN_AS":         "voter",
		"RAFTKV_JOIN_TOKEN_FILE": secretMount + "/admin.token",
		"RAFTKV_JOIN_CACERT":     secretMount + "/ca.crt",
		"RAFTKV_LISTEN":          fmt.Sprintf("tcp://0.0.0.0:%d", raftPort),
		"RAFTKV_ADVERTISE": fmt.Sprintf("$(POD_NAME).%s.%s.svc.cluster.local:%d",
			c.headless.Name, c.ns, raftPort),
		"RAFTKV_URL": fmt.Sprintf("https://$(POD_NAME).%s.%s.svc.cluster.local:%d",
			c.headless.Name, c.ns, httpPort),
	}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("raftd: %s is %q, want %q", k, env[k], v)
		}
	}
	checkPodNameFirst(t, raftd)
	t.Logf("checked: seeds = %d initial replicas = RAFTKV_PEERS in the init container, raftd "+
		"and gatewayd; a joiner registers through %s as %s:%d with URL https://$(POD_NAME)...:%d",
		n, strings.Join(join, ","), "$(POD_NAME)."+c.headless.Name, raftPort, httpPort)
}

func TestScalingPreStopLeaves(t *testing.T) {
	_, c := loadCluster(t)
	pod := &c.set.Spec.Template.Spec
	gw := containerByName(pod, "gatewayd")
	if gw.Lifecycle == nil || gw.Lifecycle.PreStop == nil || gw.Lifecycle.PreStop.Exec == nil {
		t.Fatalf("gatewayd needs a preStop exec hook (raftkv-pod leave)")
	}
	cmd := gw.Lifecycle.PreStop.Exec.Command
	if len(cmd) != 3 || cmd[0] != "/usr/bin/raftkv-pod" || cmd[1] != "leave" {
		t.Fatalf("gatewayd preStop %v, want [/usr/bin/raftkv-pod leave SECONDS]", cmd)
	}
	secs, err := strconv.Atoi(cmd[2])
	grace := int(*pod.TerminationGracePeriodSeconds)
	// after the hook gatewayd still drains (2 s) within the grace period
	if err != nil || secs < 5 || secs+3 > grace {
		t.Errorf("preStop bound %q: want 5 s or more and at most the grace period %d s - 3",
			cmd[2], grace)
	}
	for _, ct := range pod.Containers {
		if ct.Name != "gatewayd" && ct.Lifecycle != nil {
			t.Errorf("%s has lifecycle hooks: only gatewayd leaves (it has the token and "+
				"RAFTKV_GATEWAYS)", ct.Name)
		}
	}
	genv := envOf(gw)
	if genv["RAFTKV_TOKEN_FILE"] != secretMount+"/admin.token" {
		t.Errorf("gatewayd: raftkv-pod leave runs raftkvctl with RAFTKV_TOKEN_FILE, which must "+
			"be the admin token (is %q)", genv["RAFTKV_TOKEN_FILE"])
	}
	t.Logf("checked: gatewayd's preStop is %v (bounded at %d s of the %d s grace period); "+
		"it runs raftkvctl with the admin token", cmd, secs, grace)
}

func TestScalingClaimsOfScaledPods(t *testing.T) {
	_, c := loadCluster(t)
	p := c.set.Spec.PersistentVolumeClaimRetentionPolicy
	if p == nil || p.WhenScaled != appsv1.DeletePersistentVolumeClaimRetentionPolicyType ||
		p.WhenDeleted != appsv1.RetainPersistentVolumeClaimRetentionPolicyType {
		t.Fatalf("persistentVolumeClaimRetentionPolicy %+v: want whenScaled Delete (a pod "+
			"scaled away, even without its hook, comes back empty and joins) and whenDeleted "+
			"Retain (deleting the StatefulSet keeps the data)", p)
	}
	t.Logf("checked: claims of pods removed by a scale-down are deleted, the others kept")
}
