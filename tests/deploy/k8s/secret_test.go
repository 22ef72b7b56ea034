// secret_test.go - the pods-in-Docker harness's Secret volume and downward
// API: the Secret raftkv-secrets that `make certs` writes (its path in
// RAFTKV_K8S_SECRET) laid out as the kubelet lays out a secret volume
// (root:fsGroup, defaultMode | 0440 for a read-only volume), the pod's env as
// the kubelet expands it, and the test's own HTTPS client (the Secret's CA,
// its admin token).
package k8s

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// clientTLS and clientToken are what httpDo uses for https:// URLs; set by
// secretDir from the Secret.
var (
	clientTLS   *tls.Config
	clientToken string
)

// loadSecret decodes the Secret file strictly (one document of kind Secret).
func loadSecret(path string) (*corev1.Secret, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	docs := splitDocs(data)
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: %d documents, want 1", path, len(docs))
	}
	obj, _, err := strictDecoder.Decode(docs[0], nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	sec, ok := obj.(*corev1.Secret)
	if !ok {
		return nil, fmt.Errorf("%s holds a %T, want a Secret", path, obj)
	}
	return sec, nil
}

// secretDir writes the Secret named by v into a host directory the pods
// mount, owned and moded as the kubelet would, and sets the test's client
// TLS and token from it. Needs root (chown to the pod's fsGroup).
func (h *podHarness) secretDir(v *corev1.Volume) string {
	if h.secret != "" {
		return h.secret // every pod mounts the same Secret
	}
	path := os.Getenv("RAFTKV_K8S_SECRET")
	if path == "" {
		h.t.Fatal("RAFTKV_K8S_SECRET is not set (make k8s-test writes the Secret with tools/certs.sh)")
	}
	sec, err := loadSecret(path)
	if err != nil {
		h.t.Fatal(err)
	}
	if sec.Name != v.Secret.SecretName || sec.Namespace != h.c.ns {
		h.t.Fatalf("%s is Secret %s/%s, the pods mount %s/%s", path, sec.Namespace, sec.Name,
			h.c.ns, v.Secret.SecretName)
	}
	for i := 0; i < k8sMaxPods; i++ { // every pod a scale-up may add (scale_test.go)
		for _, f := range []string{".crt", ".key", ".curve.key"} {
			if len(sec.Data[fmt.Sprintf("%s-%d%s", h.c.set.Name, i, f)]) == 0 {
				h.t.Fatalf("%s: no %s-%d%s (tools/certs.sh makes %d pods' material)", path,
					h.c.set.Name, i, f, k8sMaxPods)
			}
		}
	}
	gid := int(*h.c.set.Spec.Template.Spec.SecurityContext.FSGroup)
	mode := os.FileMode(0o644)
	if v.Secret.DefaultMode != nil {
		mode = os.FileMode(*v.Secret.DefaultMode)
	}
	mode |= 0o440 // the kubelet's fsGroup rule for a read-only volume
	dir, err := os.MkdirTemp("", h.prefix+"-secret-")
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { os.RemoveAll(dir) })
	for name, data := range sec.Data {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, data, 0o600); err != nil {
			h.t.Fatal(err)
		}
		if err := os.Chown(f, 0, gid); err != nil {
			h.t.Fatalf("chown %s to 0:%d (the pods' fsGroup; run as root): %v", f, gid, err)
		}
		if err := os.Chmod(f, mode); err != nil {
			h.t.Fatal(err)
		}
	}
	if err := os.Chown(dir, 0, gid); err != nil {
		h.t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o750); err != nil {
		h.t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(sec.Data["ca.crt"]) {
		h.t.Fatalf("%s: no CA certificate in ca.crt", path)
	}
	clientTLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	clientToken = strings.TrimSpace(string(sec.Data["admin.token"]))
	if clientToken == "" {
		h.t.Fatalf("%s: no admin.token", path)
	}
	h.t.Logf("Secret %s/%s: %d files under %s, root:%d mode %04o", sec.Namespace, sec.Name,
		len(sec.Data), dir, gid, mode)
	h.secret = dir
	return dir
}

// containerEnv is ct's environment as the kubelet makes it for pod p:
// fieldRef metadata.name is the pod's name, and $(VAR) refers to a variable
// defined earlier in the list ($$ is a literal $; an unknown reference stays).
func (h *podHarness) containerEnv(p *podRun, ct *corev1.Container) []string {
	vars := map[string]string{}
	var out []string
	for _, e := range ct.Env {
		value := e.Value
		if e.ValueFrom != nil {
			if e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "metadata.name" {
				h.t.Fatalf("%s: env %s: only valueFrom fieldRef metadata.name is reproduced",
					ct.Name, e.Name)
			}
			value = p.name
		} else {
			value = expandEnv(value, vars)
		}
		vars[e.Name] = value
		out = append(out, e.Name+"="+value)
	}
	return out
}

func expandEnv(s string, vars map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		end := strings.IndexByte(s[i:], ')')
		if s[i+1] == '(' && end > 0 {
			if v, ok := vars[s[i+2:i+end]]; ok {
				b.WriteString(v)
				i += end
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
