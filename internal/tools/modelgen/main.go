// Command modelgen writes the tables shardlog takes from the Kinesis and
// Firehose API models in the aws-sdk-go v1 module, so that they cannot
// drift from the models by hand: kinesisapi's and firehoseapi's input
// constraints (from api-2.json) and the core's control-plane rates (from
// Kinesis's operations' documentation, docs-2.json):
//
//	go run ./internal/tools/modelgen            # rewrite both files
//	go run ./internal/tools/modelgen -check     # fail if one is out of date
//
// The models come through the module proxy (go mod download) unless
// -models names the directory that holds them (models/apis of the module).
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

// apis are the models read, by the package whose model_gen.go each makes.
var apis = []struct {
	dir, pkg, service string
	order             map[string][]string // AWS's member order, where recorded
}{
	{"kinesis/2013-12-02", "kinesisapi", "Kinesis", awsOrder},
	{"firehose/2015-08-04", "firehoseapi", "Firehose", nil},
}

const modelsDir = "models/apis"

func main() {
	models := flag.String("models", "", "directory of the models' folders (default: "+modelsDir+" of "+modelModule+")")
	check := flag.Bool("check", false, "compare with the files instead of writing them")
	flag.Parse()
	if err := run(*models, *check); err != nil {
		fmt.Fprintln(os.Stderr, "modelgen:", err)
		os.Exit(1)
	}
}

func run(models string, check bool) error {
	if models == "" {
		dir, err := moduleDir()
		if err != nil {
			return err
		}
		models = filepath.Join(dir, modelsDir)
	}
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, a := range apis {
		api, err := os.ReadFile(filepath.Join(models, a.dir, "api-2.json"))
		if err != nil {
			return err
		}
		src, err := generate(api, a.pkg, a.service, modelsDir+"/"+a.dir, a.order)
		if err != nil {
			return fmt.Errorf("%s: %w", a.dir, err)
		}
		files[filepath.Join(root, a.pkg, "model_gen.go")] = src
	}
	docs, err := os.ReadFile(filepath.Join(models, apis[0].dir, "docs-2.json"))
	if err != nil {
		return err
	}
	if files[filepath.Join(root, "controlrates_gen.go")], err = generateRates(docs); err != nil {
		return err
	}
	for path, src := range files {
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

// generate returns the Go source of package pkg's constraint table for
// the model raw of service, read from source; order is AWS's member
// order where it was recorded.
func generate(raw []byte, pkg, service, source string, order map[string][]string) ([]byte, error) {
	var m apiModel
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("reading the model: %w", err)
	}
	g := &gen{model: &m, emitted: map[string]bool{}, order: order}
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
	b.WriteString("// Code generated by modelgen from " + source + "/api-2.json of " + modelModule + "; DO NOT EDIT.\n\n")
	b.WriteString("package " + pkg + "\n\n")
	b.WriteString("import \"github.com/shardlog/shardlog/internal/apimodel\"\n\n")
	b.WriteString("// inputShapes are the input shapes of the " + service + " operations, by operation.\n")
	b.WriteString("var inputShapes = map[string]*apimodel.Shape{\n")
	b.Write(table.Bytes())
	b.WriteString("}\n\n")
	b.WriteString("// outputShapes are the output shapes of the " + service + " operations, by operation.\n")
	b.WriteString("var outputShapes = map[string]*apimodel.Shape{\n")
	b.Write(outputs.Bytes())
	b.WriteString("}\n\n")
	b.WriteString("var (\n")
	for _, name := range g.met {
		b.WriteString(g.decls[name])
	}
	b.WriteString(")\n")
	return format.Source(b.Bytes())
}

type gen struct {
	model   *apiModel
	emitted map[string]bool
	order   map[string][]string // AWS's member order, by shape
	met     []string            // shapes in the order first met
	decls   map[string]string   // shape name -> its declaration
}

var kinds = map[string]string{
	"string": "String", "blob": "Blob", "integer": "Integer", "long": "Integer",
	"boolean": "Boolean", "timestamp": "Timestamp", "list": "List", "map": "Map",
	"structure": "Structure", "double": "Number", "float": "Number",
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
	f = append(f, "Name: "+strconv.Quote(name), "Kind: apimodel."+kind)
	if s.Min != nil {
		f = append(f, "HasMin: true", "Min: "+strconv.FormatInt(*s.Min, 10))
	}
	if s.Max != nil {
		f = append(f, "HasMax: true", "Max: "+strconv.FormatInt(*s.Max, 10))
	}
	if s.Pattern != "" {
		f = append(f, "Pattern: "+strconv.Quote(s.Pattern))
	}
	if len(s.Enum) > 0 {
		f = append(f, fmt.Sprintf("Enum: %#v", javaHashOrder(s.Enum)))
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
		if err := ref("Elem", s.Member); err != nil {
			return "", err
		}
	case "map":
		if err := ref("Key", s.Key); err != nil {
			return "", err
		}
		if err := ref("Value", s.Value); err != nil {
			return "", err
		}
	case "structure":
		var ms []string
		for _, mem := range orderMembers(g.order[name], s.Members) {
			sv, err := g.shape(mem.Shape)
			if err != nil {
				return "", err
			}
			ms = append(ms, fmt.Sprintf("{Name: %q, Required: %t, Shape: %s}", mem.Name, slices.Contains(s.Required, mem.Name), sv))
		}
		if len(ms) > 0 {
			f = append(f, "Members: []apimodel.Member{\n"+strings.Join(ms, ",\n")+",\n}")
		}
	}
	if g.decls == nil {
		g.decls = map[string]string{}
	}
	g.met = append(g.met, name)
	g.decls[name] = fmt.Sprintf("\t%s = &apimodel.Shape{%s}\n", v, strings.Join(f, ", "))
	return v, nil
}

// orderMembers puts a structure's members in AWS's reporting order: those
// in first, then the others in model order.
func orderMembers(first []string, members orderedMembers) orderedMembers {
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
