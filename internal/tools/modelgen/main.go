// Command modelgen writes the tables shardlog takes from the Kinesis API
// model in the aws-sdk-go v1 module, so that they cannot drift from the
// model by hand: kinesisapi's input constraints (from api-2.json) and the
// core's control-plane rates (from the operations' documentation,
// docs-2.json):
//
//	go run ./internal/tools/modelgen            # rewrite both files
//	go run ./internal/tools/modelgen -check     # fail if one is out of date
//
// The model comes through the module proxy (go mod download) unless -model
// names its directory.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// modelModule holds the model; its version is the tables' source of truth.
const modelModule = "github.com/aws/aws-sdk-go@v1.55.7"

const modelDir = "models/apis/kinesis/2013-12-02"

func main() {
	model := flag.String("model", "", "directory of api-2.json and docs-2.json (default: "+modelDir+" of "+modelModule+")")
	check := flag.Bool("check", false, "compare with the files instead of writing them")
	flag.Parse()
	if err := run(*model, *check); err != nil {
		fmt.Fprintln(os.Stderr, "modelgen:", err)
		os.Exit(1)
	}
}

func run(model string, check bool) error {
	if model == "" {
		dir, err := moduleDir()
		if err != nil {
			return err
		}
		model = filepath.Join(dir, modelDir)
	}
	api, err := os.ReadFile(filepath.Join(model, "api-2.json"))
	if err != nil {
		return err
	}
	docs, err := os.ReadFile(filepath.Join(model, "docs-2.json"))
	if err != nil {
		return err
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	constraints, err := generate(api)
	if err != nil {
		return err
	}
	rates, err := generateRates(docs)
	if err != nil {
		return err
	}
	for path, src := range map[string][]byte{
		filepath.Join(root, "kinesisapi", "model_gen.go"): constraints,
		filepath.Join(root, "controlrates_gen.go"):        rates,
	} {
		if !check {
			if err := os.WriteFile(path, src, 0o644); err != nil {
				return err
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(old, src) {
			return fmt.Errorf("%s is out of date: run go run ./internal/tools/modelgen", path)
		}
	}
	return nil
}

// moduleDir downloads the model's module (or finds it in the module cache).
func moduleDir() (string, error) {
	cmd := exec.Command("go", "mod", "download", "-json", modelModule)
	cmd.Stderr = os.Stderr
	b, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s: %w", modelModule, err)
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(b, &m); err != nil {
		return "", err
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", modelModule, m.Error)
	}
	return m.Dir, nil
}

// moduleRoot is the directory of shardlog's go.mod.
func moduleRoot() (string, error) {
	b, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/shardlog/shardlog").Output()
	if err != nil {
		return "", fmt.Errorf("finding shardlog's module: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

type apiModel struct {
	Operations map[string]struct {
		Input  *struct{ Shape string } `json:"input"`
		Output *struct{ Shape string } `json:"output"`
	} `json:"operations"`
	Shapes map[string]modelShape `json:"shapes"`
}

type modelShape struct {
	Type     string                  `json:"type"`
	Required []string                `json:"required"`
	Members  orderedMembers          `json:"members"`
	Member   *struct{ Shape string } `json:"member"`
	Key      *struct{ Shape string } `json:"key"`
	Value    *struct{ Shape string } `json:"value"`
	Min      *int64                  `json:"min"`
	Max      *int64                  `json:"max"`
	Pattern  string                  `json:"pattern"`
	Enum     []string                `json:"enum"`
}

// orderedMembers keeps a structure's members in the model's order, which
// a Go map would lose.
type orderedMembers []struct{ Name, Shape string }

func (m *orderedMembers) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("members: not an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		var ref struct{ Shape string }
		if err := dec.Decode(&ref); err != nil {
			return err
		}
		*m = append(*m, struct{ Name, Shape string }{t.(string), ref.Shape})
	}
	return nil
}

// generate returns the Go source of the constraint table.
func generate(raw []byte) ([]byte, error) {
	var m apiModel
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading the model: %w", err)
	}
	g := &gen{model: &m, emitted: map[string]bool{}}
	var ops []string
	for name, op := range m.Operations {
		if op.Input != nil {
			ops = append(ops, name)
		}
	}
	slices.Sort(ops)
	var table, outputs bytes.Buffer
	for _, name := range ops {
		v, err := g.shape(m.Operations[name].Input.Shape)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&table, "\t%q: %s,\n", name, v)
	}
	for _, name := range ops {
		if out := m.Operations[name].Output; out != nil {
			v, err := g.shape(out.Shape)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(&outputs, "\t%q: %s,\n", name, v)
		}
	}
	var b bytes.Buffer
	b.WriteString("// Code generated by modelgen from " + modelDir + "/api-2.json of " + modelModule + "; DO NOT EDIT.\n\n")
	b.WriteString("package kinesisapi\n\n")
	b.WriteString("// inputShapes are the input shapes of the Kinesis operations, by operation.\n")
	b.WriteString("var inputShapes = map[string]*shape{\n")
	b.Write(table.Bytes())
	b.WriteString("}\n\n")
	b.WriteString("// outputShapes are the output shapes of the Kinesis operations, by operation.\n")
	b.WriteString("var outputShapes = map[string]*shape{\n")
	b.Write(outputs.Bytes())
	b.WriteString("}\n\n")
	b.WriteString("var (\n")
	for _, name := range g.order {
		b.WriteString(g.decls[name])
	}
	b.WriteString(")\n")
	return format.Source(b.Bytes())
}

type gen struct {
	model   *apiModel
	emitted map[string]bool
	order   []string          // shapes in the order first met
	decls   map[string]string // shape name -> its declaration
}

var kinds = map[string]string{
	"string": "kindString", "blob": "kindBlob", "integer": "kindInteger", "long": "kindInteger",
	"boolean": "kindBoolean", "timestamp": "kindTimestamp", "list": "kindList", "map": "kindMap",
	"structure": "kindStructure", "double": "kindNumber", "float": "kindNumber",
}

// shape declares the shape called name (and those it refers to) and
// returns the name of its variable.
func (g *gen) shape(name string) (string, error) {
	v := "shape" + name
	if g.emitted[name] {
		return v, nil
	}
	g.emitted[name] = true
	s, ok := g.model.Shapes[name]
	if !ok {
		return "", fmt.Errorf("shape %s is not in the model", name)
	}
	kind, ok := kinds[s.Type]
	if !ok {
		return "", fmt.Errorf("shape %s: unknown type %q", name, s.Type)
	}
	var f []string
	f = append(f, "name: "+strconv.Quote(name), "kind: "+kind)
	if s.Min != nil {
		f = append(f, "hasMin: true", "min: "+strconv.FormatInt(*s.Min, 10))
	}
	if s.Max != nil {
		f = append(f, "hasMax: true", "max: "+strconv.FormatInt(*s.Max, 10))
	}
	if s.Pattern != "" {
		f = append(f, "pattern: "+strconv.Quote(s.Pattern))
	}
	if len(s.Enum) > 0 {
		f = append(f, fmt.Sprintf("enum: %#v", javaHashOrder(s.Enum)))
	}
	ref := func(field string, r *struct{ Shape string }) error {
		if r == nil {
			return fmt.Errorf("shape %s: no %s", name, field)
		}
		sv, err := g.shape(r.Shape)
		f = append(f, field+": "+sv)
		return err
	}
	switch s.Type {
	case "list":
		if err := ref("elem", s.Member); err != nil {
			return "", err
		}
	case "map":
		if err := ref("key", s.Key); err != nil {
			return "", err
		}
		if err := ref("value", s.Value); err != nil {
			return "", err
		}
	case "structure":
		var ms []string
		for _, mem := range orderMembers(name, s.Members) {
			sv, err := g.shape(mem.Shape)
			if err != nil {
				return "", err
			}
			ms = append(ms, fmt.Sprintf("{name: %q, required: %t, shape: %s}", mem.Name, slices.Contains(s.Required, mem.Name), sv))
		}
		if len(ms) > 0 {
			f = append(f, "members: []member{\n"+strings.Join(ms, ",\n")+",\n}")
		}
	}
	if g.decls == nil {
		g.decls = map[string]string{}
	}
	g.order = append(g.order, name)
	g.decls[name] = fmt.Sprintf("\t%s = &shape{%s}\n", v, strings.Join(f, ", "))
	return v, nil
}

// orderMembers puts a structure's members in AWS's reporting order.
func orderMembers(shape string, members orderedMembers) orderedMembers {
	first := awsOrder[shape]
	out := make(orderedMembers, 0, len(members))
	for _, name := range first {
		for _, m := range members {
			if m.Name == name {
				out = append(out, m)
			}
		}
	}
	for _, m := range members {
		if !slices.Contains(first, m.Name) {
			out = append(out, m)
		}
	}
	return out
}
