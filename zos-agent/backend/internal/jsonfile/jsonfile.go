// Package jsonfile keeps the backends' small records as JSON files, written by rename so a crash
// leaves the old or the new record, never half of one.
package jsonfile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Write stores v at path (mode 0600: records may hold keys).
func Write(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("record %s: %w", filepath.Base(path), err)
	}
	if err := os.WriteFile(path+".tmp", data, 0o600); err != nil {
		return fmt.Errorf("record %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("record %s: %w", filepath.Base(path), err)
	}
	return nil
}

// Read loads the record at path into v; found is false when there is none.
func Read(path string, v any) (found bool, err error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err == nil {
		err = json.Unmarshal(data, v)
	}
	if err != nil {
		return false, fmt.Errorf("record %s: %w", filepath.Base(path), err)
	}
	return true, nil
}

// ReadAll loads every record matching the glob pattern, in name order.
func ReadAll[T any](pattern string) ([]T, error) {
	paths, err := filepath.Glob(pattern)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(paths))
	for _, p := range paths {
		var v T
		if _, err := Read(p, &v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Remove deletes the record at path; none is not an error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("record %s: %w", filepath.Base(path), err)
	}
	return nil
}
