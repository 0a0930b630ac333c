package deployment

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// nextVersion is vector2 as version 2 with nothing changed yet.
func nextVersion(t *testing.T) map[string]any {
	tree := validTree(t)
	set(t, tree, "version", 2)
	return tree
}

func TestUpdate(t *testing.T) {
	current := mustParse(t, validTree(t)).Deployment
	cases := []struct {
		name   string
		mutate func(t *testing.T, tree map[string]any)
		want   []Change
		rule   error
		msg    string
	}{
		{"nothing changed", func(*testing.T, map[string]any) {}, nil, nil, ""},
		{"disk grows", func(t *testing.T, tree map[string]any) {
			set(t, tree, "workloads.1.version", 2)
			set(t, tree, "workloads.1.data.size", 2*GiB)
		}, []Change{{"data", TypeZMount, OpUpdate}}, nil, ""},
		{"a machine cannot be updated", func(t *testing.T, tree map[string]any) {
			set(t, tree, "workloads.3.version", 2)
			set(t, tree, "workloads.3.data.compute_capacity.cpu", 4)
		}, nil, ErrNotUpdatable, `workload "web": type "zmachine" cannot be updated in place`},
		{"add a volume", func(t *testing.T, tree map[string]any) {
			addWorkload(workload("vol", TypeVolume, map[string]any{"size": GiB}))(t, tree)
			set(t, tree, "workloads.4.version", 2)
		}, []Change{{"vol", TypeVolume, OpAdd}}, nil, ""},
		{"remove a machine and its ip", func(t *testing.T, tree map[string]any) {
			set(t, tree, "workloads", tree["workloads"].([]any)[:2])
		}, []Change{{"ipv4", TypeIP, OpRemove}, {"web", TypeZMachine, OpRemove}}, nil, ""},
		{"disk shrinks", func(t *testing.T, tree map[string]any) {
			set(t, tree, "workloads.1.version", 2)
			set(t, tree, "workloads.1.data.size", GiB/2)
		}, nil, ErrShrink, `workload "data": size 536870912 is below the current size 1073741824; disks only grow`},
		{"changed without a new version", setTo("workloads.1.data.size", 2*GiB), nil, ErrUnversionedChange,
			`workload "data": version 1 is unchanged but the workload changed`},
		{"metadata changed without a new version", setTo("workloads.1.metadata", "m"), nil, ErrUnversionedChange, "unchanged"},
		{"type changes", func(t *testing.T, tree map[string]any) {
			set(t, tree, "workloads.1.version", 2)
			set(t, tree, "workloads.1.type", TypeVolume)
		}, nil, ErrTypeChanged, `workload "data": type "volume" differs from the workload's type "zmount"`},
		{"new workload with an old version", addWorkload(workload("vol", TypeVolume, map[string]any{"size": GiB})), nil,
			ErrWorkloadVersion, `workload "vol": version 1 of a new workload must be the deployment version 2`},
		{"version skipped", setTo("version", 3), nil, ErrDeploymentVersion, "version 3 is not the current version 1 + 1"},
		{"same version", setTo("version", 1), nil, ErrDeploymentVersion, "version 1 is not the current version 1 + 1"},
		{"twin changed", func(t *testing.T, tree map[string]any) {
			set(t, tree, "twin_id", 8)
			set(t, tree, "signature_requirement.requests.0.twin_id", 8)
		}, nil, ErrIdentityChanged, "twin_id 8 differs from the deployment's twin 7"},
		{"contract changed", setTo("contract_id", 1), nil, ErrIdentityChanged, "contract_id 1 differs from the deployment's contract 1234"},
		{"invalid next", setTo("workloads.1.data.size", 0), nil, ErrBelowMinimum, "size 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tree := nextVersion(t)
			tc.mutate(t, tree)
			next := mustParse(t, tree).Deployment
			changes, err := Update(&current, &next)
			if tc.rule != nil {
				if !errors.Is(err, tc.rule) || !strings.Contains(err.Error(), tc.msg) {
					t.Fatalf("error %v, want rule %v saying %q", err, tc.rule, tc.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(changes, tc.want) {
				t.Fatalf("changes %v, want %v", changes, tc.want)
			}
		})
	}
}

func TestUpdateWorkloadVersions(t *testing.T) {
	// From version 2 (where "data" was updated) to 3: "data" may keep version 2 unchanged.
	v2 := nextVersion(t)
	set(t, v2, "workloads.1.version", 2)
	set(t, v2, "workloads.1.data.size", 2*GiB)
	current := mustParse(t, v2).Deployment
	v3 := treeOf(t, encode(t, v2))
	set(t, v3, "version", 3)
	next := mustParse(t, v3).Deployment
	if changes, err := Update(&current, &next); err != nil || len(changes) != 0 {
		t.Fatalf("changes %v, error %v", changes, err)
	}
	// A version between the old one and the new one is neither.
	set(t, v3, "workloads.0.version", 1)
	next = mustParse(t, v3).Deployment
	_, err := Update(&current, &next)
	if !errors.Is(err, ErrWorkloadVersion) || !strings.Contains(err.Error(), `workload "net": version 1 is neither the workload's version 0 (unchanged) nor the deployment version 3`) {
		t.Fatalf("error %v", err)
	}
}

func TestUpdateZDB(t *testing.T) {
	tree := validTree(t)
	addWorkload(workload("db", TypeZDB, map[string]any{"size": GiB, "mode": "user"}))(t, tree)
	current := mustParse(t, tree).Deployment
	set(t, tree, "version", 2)
	set(t, tree, "workloads.4.version", 2)
	set(t, tree, "workloads.4.data.mode", "seq")
	next := mustParse(t, tree).Deployment
	if _, err := Update(&current, &next); !errors.Is(err, ErrInvalidValue) || !strings.Contains(err.Error(), `mode "seq" differs from the zdb's mode "user"`) {
		t.Fatalf("mode change: %v", err)
	}
	set(t, tree, "workloads.4.data.mode", "user")
	set(t, tree, "workloads.4.data.size", 2*GiB)
	next = mustParse(t, tree).Deployment
	changes, err := Update(&current, &next)
	if err != nil || !slices.Equal(changes, []Change{{"db", TypeZDB, OpUpdate}}) {
		t.Fatalf("grow: %v, %v", changes, err)
	}
}
