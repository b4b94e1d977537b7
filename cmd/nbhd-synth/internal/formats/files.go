package formats

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Dir creates files under an output directory and remembers their sizes.
type Dir struct {
	Root  string
	files []*os.File
	names []string
}

// Create makes rel (and its folders) under the directory.
func (d *Dir) Create(rel string) (*os.File, error) {
	p := filepath.Join(d.Root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	f, err := os.Create(p)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", rel, err)
	}
	d.files = append(d.files, f)
	d.names = append(d.names, rel)
	return f, nil
}

// Write creates rel with the output of fill, through a buffer.
func (d *Dir) Write(rel string, fill func(w *bufio.Writer) error) error {
	f, err := d.Create(rel)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := fill(w); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", rel, err)
	}
	return nil
}

// File is a written file and its size.
type File struct {
	Name  string `json:"name"`
	Bytes int64  `json:"bytes"`
}

// Close closes every file and lists them by name with their sizes.
func (d *Dir) Close() ([]File, error) {
	var out []File
	var first error
	for i, f := range d.files {
		if err := f.Close(); err != nil && first == nil {
			first = err
		}
		st, err := os.Stat(f.Name())
		if err != nil && first == nil {
			first = err
		}
		if err == nil {
			out = append(out, File{Name: d.names[i], Bytes: st.Size()})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, first
}
