// secure_test.go - the manifests run raftkv secure by default (issue 13):
// TLS, tokens and Curve from the Secret `make certs` writes, nothing
// insecure, HTTPS probes, and per-pod files picked by the pod's name.
package k8s

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

const secretMount = "/run/secrets/raftkv"

// secretVolume returns the pod's volume from the Secret raftkv-secrets.
func secretVolume(t *testing.T, pod *corev1.PodSpec) *corev1.Volume {
	t.Helper()
	for i := range pod.Volumes {
		if v := &pod.Volumes[i]; v.Secret != nil && v.Secret.SecretName == "raftkv-secrets" {
			return v
		}
	}
	t.Fatal("no volume from the Secret raftkv-secrets (tools/certs.sh writes it)")
	return nil
}

// checkPodNameFirst: POD_NAME comes from the downward API before any variable
// that refers to it ($(POD_NAME) expands only previously defined variables).
func checkPodNameFirst(t *testing.T, ct *corev1.Container) {
	t.Helper()
	defined := false
	for _, e := range ct.Env {
		if e.Name == "POD_NAME" {
			defined = e.ValueFrom != nil && e.ValueFrom.FieldRef != nil &&
				e.ValueFrom.FieldRef.FieldPath == "metadata.name"
			if !defined {
				t.Errorf("%s: POD_NAME must come from fieldRef metadata.name", ct.Name)
			}
		}
		if strings.Contains(e.Value, "$(POD_NAME)") && !defined {
			t.Errorf("%s: %s refers to $(POD_NAME) before it is defined", ct.Name, e.Name)
		}
	}
}

func TestSecureByDefault(t *testing.T) {
	_, c := loadCluster(t)
	pod := &c.set.Spec.Template.Spec
	vol := secretVolume(t, pod)
	if m := vol.Secret.DefaultMode; m == nil || *m&0o7 != 0 || *m&0o070 == 0 {
		t.Errorf("secret volume defaultMode must give the group read and others nothing "+
			"(0440: root:fsGroup, which raftd accepts for its Curve key); have %v", m)
	}
	want := map[string][]string{
		"raftd": {"RAFTKV_CURVE_SECRET_KEY=" + secretMount + "/$(POD_NAME).curve.key",
			"RAFTKV_PEER_KEYS_FILE=" + secretMount + "/peer-keys.txt"},
		"gatewayd": {"RAFTKV_TLS_CERT=" + secretMount + "/$(POD_NAME).crt",
			"RAFTKV_TLS_KEY=" + secretMount + "/$(POD_NAME).key",
			"RAFTKV_PEER_CA=" + secretMount + "/ca.crt",
			"RAFTKV_AUTH_FILE=" + secretMount + "/tokens.txt",
			"RAFTKV_ENDPOINTS=https://127.0.0.1:4001",
			"RAFTKV_CACERT=" + secretMount + "/ca.crt"},
	}
	for _, ct := range pod.Containers {
		env := envOf(&ct)
		if _, ok := env["RAFTKV_INSECURE"]; ok {
			t.Errorf("%s sets RAFTKV_INSECURE: the manifests must run secure", ct.Name)
		}
		for _, kv := range want[ct.Name] {
			k, v, _ := strings.Cut(kv, "=")
			if env[k] != v {
				t.Errorf("%s: %s is %q, want %q", ct.Name, k, env[k], v)
			}
		}
		if len(want[ct.Name]) == 0 {
			continue
		}
		checkPodNameFirst(t, &ct)
		mounted := false
		for _, vm := range ct.VolumeMounts {
			mounted = mounted || (vm.Name == vol.Name && vm.MountPath == secretMount && vm.ReadOnly)
		}
		if !mounted {
			t.Errorf("%s: the secret volume is not mounted read-only at %s", ct.Name, secretMount)
		}
	}
	gw := containerByName(pod, "gatewayd")
	for _, p := range []*corev1.Probe{gw.LivenessProbe, gw.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
			t.Errorf("gatewayd probes must use scheme HTTPS (the port serves TLS only)")
		}
	}
	t.Logf("checked: no RAFTKV_INSECURE; raftd's Curve key and allow-list and gatewayd's " +
		"certificate, key, CA and tokens from the Secret raftkv-secrets (per-pod files by " +
		"$(POD_NAME), mode 0440), mounted read-only; HTTPS probes")
}
