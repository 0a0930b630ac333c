package deploy

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tfgrid/tfgrid/zos-agent/deployment"
)

const volumeFile = `{"version":0,"twin_id":0,"contract_id":0,"metadata":"","description":"web",
"signature_requirement":{"requests":[{"twin_id":0,"required":false,"weight":1}],"weight_required":1,"signatures":[]},
"workloads":[{"version":0,"name":"vol","type":"volume","data":{"size":16777216},"metadata":"","description":""}]}`

func TestWithOwner(t *testing.T) {
	doc, err := deployment.Parse([]byte(`{"twin_id":0,"workloads":[]}`))
	require.NoError(t, err)
	owned, err := withOwner(doc, 7)
	require.NoError(t, err)
	require.EqualValues(t, 7, owned.Deployment.TwinID)
	again, err := withOwner(owned, 7)
	require.NoError(t, err)
	require.Equal(t, owned.Hash(), again.Hash())
	_, err = withOwner(owned, 8)
	require.EqualError(t, err, "deployment file: twin_id 7 is not your twin 8: only the owner deploys it")
}

func TestMissingSigners(t *testing.T) {
	req := func(weight uint64, required bool, signed ...uint64) *deployment.Deployment {
		d := &deployment.Deployment{SignatureRequirement: deployment.SignatureRequirement{WeightRequired: weight,
			Requests: []deployment.SignatureRequest{{TwinID: 1, Weight: 1}, {TwinID: 2, Weight: 1, Required: required}, {TwinID: 3, Weight: 1}}}}
		for _, s := range signed {
			d.SignatureRequirement.Signatures = append(d.SignatureRequirement.Signatures, deployment.Signature{TwinID: s})
		}
		return d
	}
	cases := []struct {
		name string
		d    *deployment.Deployment
		want []uint64
	}{
		{"2 of 3, one signed", req(2, false, 1), []uint64{2, 3}},
		{"2 of 3, two signed", req(2, false, 1, 3), nil},
		{"required twin missing", req(1, true, 1, 3), []uint64{2}},
		{"1 of 3, owner signed", req(1, false, 1), nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { require.Equal(t, c.want, missingSigners(c.d)) })
	}
}

func TestNextVersion(t *testing.T) {
	var current deployment.Deployment
	require.NoError(t, json.Unmarshal([]byte(volumeFile), &current))
	current.TwinID, current.ContractID = 5, 9
	current.Workloads[0].Version = 0

	file, err := ParseFile([]byte(`{"version":0,"twin_id":5,"contract_id":0,"metadata":"","description":"web",
"signature_requirement":{"requests":[{"twin_id":5,"weight":1}],"weight_required":1},
"workloads":[{"version":0,"name":"vol","type":"volume","data":{"size":16777216}},
{"version":0,"name":"vol2","type":"volume","data":{"size":33554432}}]}`))
	require.NoError(t, err)
	next, err := nextVersion(&current, file)
	require.NoError(t, err)
	d := next.Deployment
	require.EqualValues(t, 1, d.Version)
	require.EqualValues(t, 9, d.ContractID)
	require.EqualValues(t, 0, d.Workloads[0].Version, "unchanged workload keeps its version")
	require.EqualValues(t, 1, d.Workloads[1].Version, "new workload at the new version")
	changes, err := deployment.Update(&current, &d)
	require.NoError(t, err)
	require.Equal(t, []deployment.Change{{Name: "vol2", Type: deployment.TypeVolume, Op: deployment.OpAdd}}, changes)
}

func TestWithOwnerFillsRequests(t *testing.T) {
	doc, err := ParseFile([]byte(volumeFile))
	require.NoError(t, err)
	owned, err := withOwner(doc, 12)
	require.NoError(t, err)
	require.EqualValues(t, 12, owned.Deployment.TwinID)
	require.EqualValues(t, 12, owned.Deployment.SignatureRequirement.Requests[0].TwinID)
	require.NoError(t, owned.Deployment.Validate())
}
