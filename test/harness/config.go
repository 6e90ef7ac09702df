package harness

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Setting is one edit of a bridge config: a dotted key path ("network.server_url") and
// its new value.
type Setting struct {
	Path  string
	Value any
}

// EditConfig sets values in a bridge config file the way a user edits it: the rest of the
// file, comments included, stays as it is.
func EditConfig(path string, sets ...Setting) error {
	doc, err := loadYAML(path)
	if err != nil {
		return err
	}
	for _, s := range sets {
		if err := setPath(doc, strings.Split(s.Path, "."), s.Value); err != nil {
			return fmt.Errorf("%s: %w", s.Path, err)
		}
	}
	return saveYAML(path, doc)
}

func loadYAML(path string) (*yaml.Node, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: not a YAML mapping document", path)
	}
	return &doc, nil
}

func saveYAML(path string, doc *yaml.Node) error {
	var sb strings.Builder
	enc := yaml.NewEncoder(&sb)
	enc.SetIndent(4)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(sb.String()), 0o600)
}

// setPath sets the value at a dotted key path, creating missing mappings; a number
// selects an existing entry of a list ("logging.writers.0.min_level"). The comments of a
// replaced value are kept.
func setPath(doc *yaml.Node, path []string, value any) error {
	m := doc.Content[0]
	for i, key := range path {
		last := i == len(path)-1
		if m.Kind == yaml.SequenceNode {
			n, err := strconv.Atoi(key)
			if err != nil || n < 0 || n >= len(m.Content) {
				return fmt.Errorf("%q has no entry %q", strings.Join(path[:i], "."), key)
			}
			if last {
				return replaceNode(m.Content[n], value)
			}
			m = m.Content[n]
			continue
		}
		if m.Kind != yaml.MappingNode {
			return fmt.Errorf("%q is not a mapping", strings.Join(path[:i], "."))
		}
		var child *yaml.Node
		for j := 0; j+1 < len(m.Content); j += 2 {
			if m.Content[j].Value == key {
				child = m.Content[j+1]
				break
			}
		}
		if child == nil {
			child = &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key}, child)
		}
		if last {
			return replaceNode(child, value)
		}
		m = child
	}
	return nil
}

// replaceNode puts value where node is, keeping node's comments.
func replaceNode(node *yaml.Node, value any) error {
	var v yaml.Node
	if err := v.Encode(value); err != nil {
		return err
	}
	v.HeadComment, v.LineComment, v.FootComment = node.HeadComment, node.LineComment, node.FootComment
	*node = v
	return nil
}

// ReadConfig decodes a bridge config file (or the part of it into has fields for).
func ReadConfig(path string, into any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := yaml.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
