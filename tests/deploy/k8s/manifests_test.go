// manifests_test.go - loads every manifest in k8s/ strictly into Kubernetes'
// own API types (k8s.io/api): an unknown, misspelled or mistyped field fails
// the decode, as kubectl apply --validate=strict would.
package k8s

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// manifests holds every object of k8s/, by kind, decoded strictly.
type manifests struct {
	namespaces []*corev1.Namespace
	services   []*corev1.Service
	sets       []*appsv1.StatefulSet
	pdbs       []*policyv1.PodDisruptionBudget
	files      int
	docs       int
}

func k8sDir() string {
	if d := os.Getenv("RAFTKV_K8S_DIR"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "k8s")
}

// splitDocs splits a multi-document YAML stream on "---" lines; blank or
// comment-only documents are dropped.
func splitDocs(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	flush := func() {
		keep := false
		for _, line := range strings.Split(cur.String(), "\n") {
			t := strings.TrimSpace(line)
			if t != "" && !strings.HasPrefix(t, "#") {
				keep = true
			}
		}
		if keep {
			docs = append(docs, append([]byte(nil), cur.Bytes()...))
		}
		cur.Reset()
	}
	for _, line := range strings.SplitAfter(string(data), "\n") {
		if strings.TrimRight(line, "\r\n") == "---" {
			flush()
			continue
		}
		cur.WriteString(line)
	}
	flush()
	return docs
}

// strictDecoder is apimachinery's own deserializer in strict mode, as the
// API server uses it for kubectl apply --validate=strict: unknown fields,
// duplicate keys and wrong types fail, and field names match case-sensitively
// (plain encoding/json with DisallowUnknownFields would take
// "readOnlyRootFileSystem" for readOnlyRootFilesystem).
var strictDecoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme,
		appsv1.AddToScheme, policyv1.AddToScheme} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

// decodeDoc decodes one document into the API type its apiVersion and kind
// name, strictly.
func decodeDoc(doc []byte, m *manifests) error {
	obj, gvk, err := strictDecoder.Decode(doc, nil, nil)
	if err != nil {
		return err
	}
	switch o := obj.(type) {
	case *corev1.Namespace:
		m.namespaces = append(m.namespaces, o)
	case *corev1.Service:
		m.services = append(m.services, o)
	case *appsv1.StatefulSet:
		m.sets = append(m.sets, o)
	case *policyv1.PodDisruptionBudget:
		m.pdbs = append(m.pdbs, o)
	default:
		return fmt.Errorf("kind %s is not one this test checks (add it to decodeDoc)", gvk)
	}
	return nil
}

func loadManifests(dir string) (*manifests, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	more, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	paths = append(paths, more...)
	sort.Strings(paths)
	if len(paths) == 0 {
		return nil, fmt.Errorf("no manifests in %s", dir)
	}
	m := &manifests{}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		m.files++
		for i, doc := range splitDocs(data) {
			m.docs++
			if err := decodeDoc(doc, m); err != nil {
				return nil, fmt.Errorf("%s document %d: %w", filepath.Base(p), i+1, err)
			}
		}
	}
	return m, nil
}

func TestManifestsDecodeStrictly(t *testing.T) {
	m, err := loadManifests(k8sDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("checked: %d files, %d documents decoded strictly into k8s.io/api types "+
		"(%d Namespace, %d Service, %d StatefulSet, %d PodDisruptionBudget)",
		m.files, m.docs, len(m.namespaces), len(m.services), len(m.sets), len(m.pdbs))
}

// TestStrictDecodingCatchesMistakes proves the decoder above would fail on
// the mistakes it is there to catch, using mutated copies of the real files.
func TestStrictDecodingCatchesMistakes(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(k8sDir(), "20-statefulset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to string }{
		{"misspelled field", "  replicas: 3\n", "  replica: 3\n"},
		{"mistyped field", "  replicas: 3\n", "  replicas: three\n"},
		{"misspelled nested field", "readOnlyRootFilesystem: true",
			"readOnlyRootFileSystem: true"},
		{"field at the wrong level", "  podManagementPolicy: Parallel\n",
			"  podManagementPolicy: Parallel\n  terminationGracePeriodSeconds: 20\n"},
		{"unknown apiVersion", "apiVersion: apps/v1\n", "apiVersion: apps/v1beta9\n"},
		{"duplicate key", "  replicas: 3\n", "  replicas: 3\n  replicas: 4\n"},
	}
	for _, c := range cases {
		if !bytes.Contains(orig, []byte(c.from)) {
			t.Fatalf("%s: the manifest no longer contains %q; update the test", c.name, c.from)
		}
		bad := bytes.Replace(orig, []byte(c.from), []byte(c.to), 1)
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "20-statefulset.yaml"), bad, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := loadManifests(dir)
		if err == nil {
			t.Errorf("%s (%q -> %q) was accepted", c.name, c.from, c.to)
			continue
		}
		t.Logf("checked: %s rejected: %v", c.name, err)
	}
}
