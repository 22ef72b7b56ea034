// scale_test.go - `kubectl scale statefulset/raftkv --replicas=5`, then back
// to 3, as the StatefulSet controller carries it out with podManagementPolicy
// Parallel: raftkv-3 and raftkv-4 are created together (new claims), and later
// deleted together (their claims stay). The membership must follow by itself:
// each new pod joins as a learner through the seeds and is promoted once
// caught up; each pod scaled away leaves the configuration in its preStop
// hook (run from the manifest, pods_test.go). In between, raftkv-3 is deleted
// and recreated (a restart of a pod beyond the seeds, as a rolling update or a
// drain does): it leaves, comes back with its claim emptied by the init
// container, and joins again; raftkv-4 is scaled away without its hook (a
// forced deletion): it stays a member until an operator removes it.
package k8s

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
)

// TestPodsScale: a 3-pod StatefulSet of its own, scaled to 5 and back to 3.
// Runs only with RAFTKV_K8S_DOCKER=1, as TestPodsInDocker.
func TestPodsScale(t *testing.T) {
	if os.Getenv("RAFTKV_K8S_DOCKER") != "1" {
		t.Skip("SKIPPED: set RAFTKV_K8S_DOCKER=1 with a Docker engine and the raftkv " +
			"image (make k8s-test does both when docker info answers)")
	}
	start := time.Now()
	h := newPodHarness(t)
	for _, p := range h.pods {
		h.startPod(p)
	}
	for _, p := range h.pods {
		h.waitReady(p, 60*time.Second)
	}
	h.checkWriteReadAll("k8s/first", "v1", h.pods[0])
	t.Logf("3 pods up and written to in %.1f s", time.Since(start).Seconds())
	h.checkScale()
}

// membersSummary is "id:role ..." of GET /v1/members through pod via, by id.
func (h *podHarness) membersSummary(via *podRun) (string, error) {
	code, body := httpDo("GET", via.url+"/v1/members", "", 5*time.Second)
	if code != 200 {
		return "", fmt.Errorf("GET /v1/members via %s: %d %s", via.name, code, body)
	}
	var r struct {
		Members []struct {
			ID   uint64 `json:"id"`
			Role string `json:"role"`
		} `json:"members"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return "", fmt.Errorf("GET /v1/members via %s: %v in %s", via.name, err, body)
	}
	sort.Slice(r.Members, func(i, j int) bool { return r.Members[i].ID < r.Members[j].ID })
	var parts []string
	for _, m := range r.Members {
		parts = append(parts, fmt.Sprintf("%d:%s", m.ID, m.Role))
	}
	return strings.Join(parts, " "), nil
}

// voters is the summary of nodes 1..n, all voters.
func voters(ids ...int) string {
	var parts []string
	for _, id := range ids {
		parts = append(parts, fmt.Sprintf("%d:voter", id))
	}
	return strings.Join(parts, " ")
}

func (h *podHarness) waitMembers(via *podRun, want string, limit time.Duration) {
	h.t.Helper()
	waitFor(h.t, "members via "+via.name+" are "+want, limit, func() error {
		have, err := h.membersSummary(via)
		if err != nil {
			return err
		}
		if have != want {
			return fmt.Errorf("members %q", have)
		}
		return nil
	})
}

// scaleTo does what the StatefulSet controller does for a new replica count:
// creates the missing pods, or deletes the highest ordinals, all at once, and
// then their claims when persistentVolumeClaimRetentionPolicy says whenScaled:
// Delete.
func (h *podHarness) scaleTo(n int) []*podRun {
	return h.scale(n, false)
}

// scaleForced is scaleTo down to n with pods deleted as `kubectl delete pod
// --grace-period=0 --force` (or a lost node) leaves them: no preStop hook.
func (h *podHarness) scaleForced(n int) []*podRun {
	return h.scale(n, true)
}

func (h *podHarness) scale(n int, force bool) []*podRun {
	var changed []*podRun
	for i := len(h.pods); i < n; i++ {
		p := h.newPodRun(i)
		h.pods = append(h.pods, p)
		h.startPod(p)
		changed = append(changed, p)
	}
	if n >= len(h.pods) {
		return changed
	}
	changed = append(changed, h.pods[n:]...)
	h.pods = h.pods[:n]
	errs := make([]error, len(changed))
	var wg sync.WaitGroup
	for i, p := range changed {
		wg.Add(1)
		go func(i int, p *podRun) {
			defer wg.Done()
			if force {
				p.preStopLogs = ""
				_, errs[i] = docker("kill", h.prefix+"-"+p.name+"-raftd",
					h.prefix+"-"+p.name+"-storaged", h.prefix+"-"+p.name+"-gatewayd")
				return
			}
			errs[i] = h.terminate(p)
		}(i, p)
	}
	wg.Wait()
	policy := h.c.set.Spec.PersistentVolumeClaimRetentionPolicy
	for i, p := range changed {
		if errs[i] != nil {
			h.t.Fatal(errs[i])
		}
		h.removeStopped(p)
		if policy != nil && policy.WhenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType {
			for _, pvc := range h.c.set.Spec.VolumeClaimTemplates {
				mustDocker(h.t, "volume", "rm", p.volumes[pvc.Name])
			}
		}
	}
	return changed
}

// checkForcedScaleDown: a pod removed without its preStop hook stays a member
// (a dead voter) until an operator removes it, as docs/design.md says; its
// claim went with the scale-down, so a later scale-up joins it afresh.
func (h *podHarness) checkForcedScaleDown() {
	t0 := time.Now()
	seed := h.pods[0]
	gone := h.scaleForced(4)[0]
	time.Sleep(2 * time.Second)
	if have, err := h.membersSummary(seed); err != nil || have != voters(1, 2, 3, 4, 5) {
		h.t.Fatalf("after %s was deleted without its hook: members %q %v, want node 5 still "+
			"listed", gone.name, have, err)
	}
	out, err := dockerCombined("exec", h.prefix+"-"+seed.name+"-gatewayd", "/usr/bin/raftkvctl",
		"member", "remove", "5")
	if err != nil {
		h.t.Fatalf("raftkvctl member remove 5 in %s: %v %s", seed.name, err, out)
	}
	h.waitMembers(seed, voters(1, 2, 3, 4), 30*time.Second)
	added := h.scaleTo(5)
	h.waitReady(added[0], 90*time.Second)
	h.waitMembers(seed, voters(1, 2, 3, 4, 5), 90*time.Second)
	h.waitOwnCopy(added[0], "k8s/restarted", "again")
	h.t.Logf("checked: %s deleted without its preStop hook stayed a voter until `raftkvctl "+
		"member remove 5` (%s); its claim went with the scale-down, so scaled up again it "+
		"joined afresh (%.1f s)", gone.name, strings.TrimSpace(out), time.Since(t0).Seconds())
}

// waitOwnCopy: the pod's own copy (a stale read) holds key = want within 30 s.
// /readyz and a promotion may come a moment before the node has applied
// everything (a snapshot being installed, storaged applying behind raftd).
func (h *podHarness) waitOwnCopy(p *podRun, key, want string) {
	h.t.Helper()
	waitFor(h.t, p.name+"'s own copy has "+key+"="+want, 30*time.Second, func() error {
		code, got := httpDo("GET", p.url+"/v1/kv/"+key+"?consistency=stale", "", 5*time.Second)
		if code != 200 || got != want {
			return fmt.Errorf("%d %q", code, got)
		}
		return nil
	})
}

// checkLeft: the pod's preStop hook says it left the configuration.
func (h *podHarness) checkLeft(p *podRun) {
	if !strings.Contains(p.preStopLogs, "left the configuration") {
		h.t.Fatalf("%s's preStop hook did not leave the configuration:\n%s", p.name,
			p.preStopLogs)
	}
	h.t.Logf("%s's preStop: %s", p.name, lastLineWith(p.preStopLogs, "left the configuration"))
}

func (h *podHarness) checkScale() {
	start := time.Now()
	seed := h.pods[0]
	added := h.scaleTo(5)
	h.t.Logf("scaled to 5: started %s and %s together (empty claims)", added[0].name,
		added[1].name)
	for _, p := range added {
		h.waitReady(p, 90*time.Second)
	}
	h.waitMembers(seed, voters(1, 2, 3, 4, 5), 90*time.Second)
	h.checkWriteReadAll("k8s/scaled", "five", seed)
	p4 := h.pods[4]
	h.waitOwnCopy(p4, "k8s/first", "v1") // written before it joined
	logs, _ := dockerCombined("logs", h.prefix+"-"+p4.name+"-raftd")
	if !strings.Contains(logs, "raftd joins") || !strings.Contains(logs, "peers=curve") {
		h.t.Fatalf("%s's raftd did not start as a joiner on Curve:\n%s", p4.name, logs)
	}
	h.t.Logf("checked: 3 -> 5 in %.1f s: nodes 4 and 5 joined through the seeds, were "+
		"promoted, serve reads (their own copies hold what was written before they joined)",
		time.Since(start).Seconds())

	h.checkSeedClaimLost(h.pods[1])

	t0 := time.Now()
	p3 := h.pods[3]
	h.stopPod(p3)
	h.checkLeft(p3)
	h.waitMembers(seed, voters(1, 2, 3, 5), 30*time.Second)
	h.startPod(p3)
	if !strings.Contains(p3.initLogs, "data directory emptied") {
		h.t.Fatalf("%s's init container did not empty the claim of a pod that left:\n%s",
			p3.name, p3.initLogs)
	}
	h.waitReady(p3, 90*time.Second)
	h.waitMembers(seed, voters(1, 2, 3, 4, 5), 90*time.Second)
	h.checkWriteReadAll("k8s/restarted", "again", p3)
	h.t.Logf("checked: %s deleted and recreated in %.1f s: left in its preStop, its claim "+
		"emptied by the init container, joined again and promoted", p3.name,
		time.Since(t0).Seconds())

	h.checkForcedScaleDown()

	t0 = time.Now()
	removed := h.scaleTo(3)
	for _, p := range removed {
		h.checkLeft(p)
	}
	h.waitMembers(seed, voters(1, 2, 3), 30*time.Second)
	h.checkWriteReadAll("k8s/scaled-down", "three", h.pods[1])
	h.t.Logf("checked: 5 -> 3 in %.1f s: %s and %s deleted together, each left the "+
		"configuration in its preStop hook; 3 voters left, writes go on (scaling took "+
		"%.1f s in all)", time.Since(t0).Seconds(), removed[0].name, removed[1].name,
		time.Since(start).Seconds())
}

// checkSeedClaimLost: a seed pod whose claim was deleted (a lost volume) comes
// back empty in a cluster that has grown past its --peers: it seeds a
// configuration of the seeds, which the running cluster overrides; the leader
// sees its new incarnation and makes it a learner (F15), then promotes it.
func (h *podHarness) checkSeedClaimLost(p *podRun) {
	t0 := time.Now()
	h.stopPod(p)
	if strings.Contains(p.preStopLogs, "left the configuration") {
		h.t.Fatalf("seed %s left the configuration when it stopped:\n%s", p.name, p.preStopLogs)
	}
	for _, pvc := range h.c.set.Spec.VolumeClaimTemplates {
		mustDocker(h.t, "volume", "rm", p.volumes[pvc.Name])
	}
	h.startPod(p)
	h.waitReady(p, 90*time.Second)
	h.waitOwnCopy(p, "k8s/scaled", "five")
	h.waitMembers(h.pods[0], voters(1, 2, 3, 4, 5), 90*time.Second)
	h.t.Logf("checked: seed %s stayed a member when it stopped; its claim deleted, it came "+
		"back empty with --peers, healed and was a voter again with the data in %.1f s",
		p.name, time.Since(t0).Seconds())
}
