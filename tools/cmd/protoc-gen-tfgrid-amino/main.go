// Command protoc-gen-tfgrid-amino is a protoc/buf plugin that writes tfgrid-msgs.ts for the
// TypeScript client (ts-client/): for every Msg of every Msg service (option cosmos.msg.v1.service)
// in the files to generate, its CosmJS registry entry and its amino converter.
//
// The converters reproduce the chain's amino JSON encoder (cosmos-sdk x/tx/signing/aminojson), so
// what a Ledger user signs in SIGN_MODE_LEGACY_AMINO_JSON is what the chain verifies:
//   - the Msg is wrapped as {"type": <amino.name>, "value": {...}} by CosmJS (aminoType);
//   - fields are named by amino.field_name or their proto name;
//   - a field is left out when it is unset (proto3 default, empty list, absent message) unless it
//     has amino.dont_omitempty;
//   - 64-bit integers are decimal strings, 32-bit integers and enums numbers, bytes base64;
//   - cosmos_proto.scalar "cosmos.Dec" strings (gogoproto LegacyDec, an 18-decimal integer on the
//     protobuf wire) are written as LegacyDec.String() ("1.500000000000000000"), "cosmos.Int" as is.
//
// What the chain's encoder handles but tfgrid's Msgs do not use (oneofs, maps, floats, well-known
// types, amino.encoding, amino.message_encoding) is refused with an error naming the field, so a
// proto change that needs it cannot silently produce converters the chain would not verify.
//
// The option extensions (amino.*, cosmos_proto.*, cosmos.msg.v1.*) are resolved from the request's
// own descriptors, so the plugin depends on no Cosmos Go package.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/pluginpb"
)

// outputFile is the one file the plugin writes (buf strategy: all).
const outputFile = "tfgrid-msgs.ts"

func main() {
	if err := run(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "protoc-gen-tfgrid-amino: %v\n", err)
		os.Exit(1)
	}
}

func run(in io.Reader, out io.Writer) error {
	raw, err := io.ReadAll(in)
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	req := &pluginpb.CodeGeneratorRequest{}
	if err := proto.Unmarshal(raw, req); err != nil {
		return fmt.Errorf("decode request: %w", err)
	}
	resp := &pluginpb.CodeGeneratorResponse{
		SupportedFeatures: proto.Uint64(uint64(pluginpb.CodeGeneratorResponse_FEATURE_PROTO3_OPTIONAL)),
	}
	content, err := generate(req)
	if err != nil {
		resp.Error = proto.String(err.Error())
	} else {
		resp.File = []*pluginpb.CodeGeneratorResponse_File{{Name: proto.String(outputFile), Content: proto.String(content)}}
	}
	b, err := proto.Marshal(resp)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	_, err = out.Write(b)
	return err
}

// options reads custom options (extensions) of descriptors, resolving them from the request's files.
type options struct{ types *protoregistry.Types }

func newOptions(files *protoregistry.Files) (*options, error) {
	types := new(protoregistry.Types)
	var err error
	files.RangeFiles(func(fd protoreflect.FileDescriptor) bool {
		exts := fd.Extensions()
		for i := 0; i < exts.Len() && err == nil; i++ {
			err = types.RegisterExtension(dynamicpb.NewExtensionType(exts.Get(i)))
		}
		return err == nil
	})
	return &options{types: types}, err
}

// get returns the value of extension name in opts, if set.
func (o *options) get(opts proto.Message, name protoreflect.FullName) (protoreflect.Value, bool) {
	xt, err := o.types.FindExtensionByName(name)
	if err != nil || opts == nil {
		return protoreflect.Value{}, false
	}
	b, err := proto.Marshal(opts)
	if err != nil {
		return protoreflect.Value{}, false
	}
	m := opts.ProtoReflect().New()
	if err := (proto.UnmarshalOptions{Resolver: o.types}).Unmarshal(b, m.Interface()); err != nil {
		return protoreflect.Value{}, false
	}
	if !m.Has(xt.TypeDescriptor()) {
		return protoreflect.Value{}, false
	}
	return m.Get(xt.TypeDescriptor()), true
}

func (o *options) str(opts proto.Message, name protoreflect.FullName) string {
	if v, ok := o.get(opts, name); ok {
		return v.String()
	}
	return ""
}

func (o *options) flag(opts proto.Message, name protoreflect.FullName) bool {
	v, ok := o.get(opts, name)
	return ok && v.Bool()
}

// msg is one Msg: its type URL, amino name and descriptor.
type msg struct {
	typeURL   string
	aminoName string
	desc      protoreflect.MessageDescriptor
}

type generator struct {
	opts    *options
	imports map[string]string // TS module path -> namespace alias
	done    map[protoreflect.FullName]bool
	queue   []protoreflect.MessageDescriptor
	funcs   strings.Builder
}

func generate(req *pluginpb.CodeGeneratorRequest) (string, error) {
	files, err := protodesc.NewFiles(&descriptorpb.FileDescriptorSet{File: req.GetProtoFile()})
	if err != nil {
		return "", fmt.Errorf("request descriptors: %w", err)
	}
	opts, err := newOptions(files)
	if err != nil {
		return "", fmt.Errorf("register option extensions: %w", err)
	}
	msgs, err := collectMsgs(files, opts, req.GetFileToGenerate())
	if err != nil {
		return "", err
	}
	g := &generator{opts: opts, imports: map[string]string{}, done: map[protoreflect.FullName]bool{}}
	for _, m := range msgs {
		g.enqueue(m.desc)
	}
	for len(g.queue) > 0 {
		d := g.queue[0]
		g.queue = g.queue[1:]
		if err := g.converters(d); err != nil {
			return "", err
		}
	}
	return g.file(msgs), nil
}

func collectMsgs(files *protoregistry.Files, opts *options, toGenerate []string) ([]msg, error) {
	var msgs []msg
	seen := map[protoreflect.FullName]bool{}
	for _, name := range toGenerate {
		fd, err := files.FindFileByPath(name)
		if err != nil {
			return nil, fmt.Errorf("file %s: %w", name, err)
		}
		services := fd.Services()
		for i := 0; i < services.Len(); i++ {
			svc := services.Get(i)
			if !opts.flag(svc.Options(), "cosmos.msg.v1.service") {
				continue
			}
			methods := svc.Methods()
			for j := 0; j < methods.Len(); j++ {
				in := methods.Get(j).Input()
				if seen[in.FullName()] {
					continue
				}
				seen[in.FullName()] = true
				aminoName := opts.str(in.Options(), "amino.name")
				if aminoName == "" {
					return nil, fmt.Errorf("%s (input of %s): no option (amino.name); every Msg needs one for amino JSON signing", in.FullName(), methods.Get(j).FullName())
				}
				msgs = append(msgs, msg{typeURL: "/" + string(in.FullName()), aminoName: aminoName, desc: in})
			}
		}
	}
	sort.Slice(msgs, func(i, j int) bool { return msgs[i].typeURL < msgs[j].typeURL })
	return msgs, nil
}

func (g *generator) enqueue(d protoreflect.MessageDescriptor) {
	if !g.done[d.FullName()] {
		g.done[d.FullName()] = true
		g.queue = append(g.queue, d)
	}
}

// tsType is the TS expression naming message d's ts-proto type, importing its module.
func (g *generator) tsType(d protoreflect.MessageDescriptor) string {
	module := "./" + strings.TrimSuffix(d.ParentFile().Path(), ".proto")
	alias, ok := g.imports[module]
	if !ok {
		alias = strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(strings.TrimPrefix(module, "./"))
		g.imports[module] = alias
	}
	// ts-proto names nested messages Outer_Inner.
	name := string(d.Name())
	for p := d.Parent(); p != nil; p = p.Parent() {
		if pm, ok := p.(protoreflect.MessageDescriptor); ok {
			name = string(pm.Name()) + "_" + name
		}
	}
	return alias + "." + name
}

// funcSuffix names the converter functions of message d.
func funcSuffix(d protoreflect.MessageDescriptor) string {
	return strings.ReplaceAll(string(d.FullName()), ".", "_")
}

// unsupportedMessages are well-known types the chain encodes specially; tfgrid's Msgs use none.
var unsupportedMessages = map[protoreflect.FullName]bool{
	"google.protobuf.Any": true, "google.protobuf.Timestamp": true, "google.protobuf.Duration": true,
}

// converters writes toAmino_<d> and fromAmino_<d>.
func (g *generator) converters(d protoreflect.MessageDescriptor) error {
	if g.opts.str(d.Options(), "amino.message_encoding") != "" {
		return fmt.Errorf("%s: option (amino.message_encoding) is not supported", d.FullName())
	}
	ts := g.tsType(d)
	fields := d.Fields()
	var to, from strings.Builder
	for i := 0; i < fields.Len(); i++ {
		f := fields.Get(i)
		c, err := g.field(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(&to, "  %s\n", c.toAmino)
		fmt.Fprintf(&from, "    %s: %s,\n", c.tsName, c.fromAmino)
	}
	fmt.Fprintf(&g.funcs, "\nfunction toAmino_%s(m: %s): AminoValue {\n  const a: AminoValue = {};\n%s  return a;\n}\n",
		funcSuffix(d), ts, to.String())
	fmt.Fprintf(&g.funcs, "\nfunction fromAmino_%s(a: AminoValue): %s {\n  return %s.fromPartial({\n%s  });\n}\n",
		funcSuffix(d), ts, ts, from.String())
	return nil
}

// fieldCode is the TS of one field: a statement setting a[name] from m, and an expression of a.
type fieldCode struct {
	tsName, toAmino, fromAmino string
}

// scalarKind is how one value of a field travels: its TS default test and conversions.
type scalarKind struct {
	isDefault string // %s: the TS value
	to, from  string // %s: the value to convert
}

var (
	kindString = scalarKind{`%s === ""`, "%s", "enc.stringFromAmino(%s)"}
	kindBool   = scalarKind{"!%s", "%s", "enc.boolFromAmino(%s)"}
	kindNumber = scalarKind{"%s === 0", "%s", "enc.numberFromAmino(%s)"}
	kindBigint = scalarKind{"%s === BigInt(0)", "%s.toString()", "enc.bigintFromAmino(%s)"}
	kindBytes  = scalarKind{"%s.length === 0", "enc.bytesToAmino(%s)", "enc.bytesFromAmino(%s)"}
	kindDec    = scalarKind{`%s === ""`, "enc.decToAmino(%s)", "enc.decFromAmino(%s)"}
	kindInt    = scalarKind{`%s === ""`, "enc.intToAmino(%s)", "enc.stringFromAmino(%s)"}
)

func (g *generator) field(f protoreflect.FieldDescriptor) (fieldCode, error) {
	where := string(f.FullName())
	switch {
	case f.IsMap():
		return fieldCode{}, fmt.Errorf("%s: map fields are not supported", where)
	case f.ContainingOneof() != nil:
		return fieldCode{}, fmt.Errorf("%s: oneof fields are not supported", where)
	case g.opts.str(f.Options(), "amino.encoding") != "":
		return fieldCode{}, fmt.Errorf("%s: option (amino.encoding) is not supported", where)
	}
	aminoName := g.opts.str(f.Options(), "amino.field_name")
	if aminoName == "" {
		aminoName = string(f.Name())
	}
	keepEmpty := g.opts.flag(f.Options(), "amino.dont_omitempty")
	c := fieldCode{tsName: tsFieldName(string(f.Name()))}
	value := "m." + c.tsName
	key := fmt.Sprintf("a[%q]", aminoName)

	if f.Kind() == protoreflect.MessageKind || f.Kind() == protoreflect.GroupKind {
		md := f.Message()
		if unsupportedMessages[md.FullName()] {
			return fieldCode{}, fmt.Errorf("%s: %s fields are not supported", where, md.FullName())
		}
		g.enqueue(md)
		to, from := "toAmino_"+funcSuffix(md), "fromAmino_"+funcSuffix(md)
		if f.IsList() {
			c.toAmino, c.fromAmino = listCode(key, value, keepEmpty, to+"(v)", from+"(enc.objectFromAmino(v))")
			return c, nil
		}
		if keepEmpty {
			// The chain refuses an absent message with dont_omitempty: always send one.
			c.toAmino = fmt.Sprintf("%s = %s(%s ?? %s.fromPartial({}));", key, to, value, g.tsType(md))
			c.fromAmino = fmt.Sprintf("%s(enc.objectFromAmino(%s))", from, key)
		} else {
			c.toAmino = fmt.Sprintf("if (%s !== undefined) %s = %s(%s);", value, key, to, value)
			c.fromAmino = fmt.Sprintf("%s == null ? undefined : %s(enc.objectFromAmino(%s))", key, from, key)
		}
		return c, nil
	}

	kind, err := g.kind(f)
	if err != nil {
		return fieldCode{}, err
	}
	if f.IsList() {
		c.toAmino, c.fromAmino = listCode(key, value, keepEmpty, fmt.Sprintf(kind.to, "v"), fmt.Sprintf(kind.from, "v"))
		return c, nil
	}
	if keepEmpty {
		c.toAmino = fmt.Sprintf("%s = %s;", key, fmt.Sprintf(kind.to, value))
	} else {
		c.toAmino = fmt.Sprintf("if (!(%s)) %s = %s;", fmt.Sprintf(kind.isDefault, value), key, fmt.Sprintf(kind.to, value))
	}
	c.fromAmino = fmt.Sprintf(kind.from, key)
	return c, nil
}

// listCode converts a repeated field element by element. The chain writes an empty list with
// dont_omitempty as null (an unset list is not a valid protoreflect.List).
func listCode(key, value string, keepEmpty bool, toElem, fromElem string) (string, string) {
	to := fmt.Sprintf("if (%s.length > 0) %s = %s.map((v) => %s);", value, key, value, toElem)
	if keepEmpty {
		to += fmt.Sprintf(" else %s = null;", key)
	}
	from := fmt.Sprintf("enc.listFromAmino(%s).map((v) => %s)", key, fromElem)
	return to, from
}

func (g *generator) kind(f protoreflect.FieldDescriptor) (scalarKind, error) {
	scalar := g.opts.str(f.Options(), "cosmos_proto.scalar")
	switch f.Kind() {
	case protoreflect.StringKind:
		switch scalar {
		case "cosmos.Dec":
			return kindDec, nil
		case "cosmos.Int":
			return kindInt, nil
		}
		return kindString, nil
	case protoreflect.BytesKind:
		if scalar == "cosmos.Dec" || scalar == "cosmos.Int" {
			return scalarKind{}, fmt.Errorf("%s: bytes fields with cosmos_proto.scalar %q are not supported", f.FullName(), scalar)
		}
		return kindBytes, nil
	case protoreflect.BoolKind:
		return kindBool, nil
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind,
		protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.EnumKind:
		return kindNumber, nil
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind,
		protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return kindBigint, nil
	}
	return scalarKind{}, fmt.Errorf("%s: %s fields are not supported by amino JSON", f.FullName(), f.Kind())
}

// tsFieldName is ts-proto's name of a proto field (its snakeToCamel).
func tsFieldName(name string) string {
	hasLower := strings.ToUpper(name) != name
	words := strings.Split(name, "_")
	for i, w := range words {
		if !hasLower {
			w = strings.ToLower(w)
		}
		if i > 0 && w != "" {
			w = strings.ToUpper(w[:1]) + w[1:]
		}
		words[i] = w
	}
	return strings.Join(words, "")
}

func (g *generator) file(msgs []msg) string {
	var b strings.Builder
	b.WriteString("// Code generated by protoc-gen-tfgrid-amino. DO NOT EDIT.\n")
	b.WriteString("// The CosmJS registry entries and amino converters of every tfgrid Msg.\n\n")
	b.WriteString("/* eslint-disable */\n")
	b.WriteString(`import type { GeneratedType } from "@cosmjs/proto-signing";` + "\n")
	b.WriteString(`import type { AminoConverters } from "@cosmjs/stargate";` + "\n")
	b.WriteString(`import * as enc from "../amino-encoding";` + "\n")
	b.WriteString(`import type { AminoValue } from "../amino-encoding";` + "\n")
	// Resolve every message's import before writing them.
	for _, m := range msgs {
		g.tsType(m.desc)
	}
	modules := make([]string, 0, len(g.imports))
	for m := range g.imports {
		modules = append(modules, m)
	}
	sort.Strings(modules)
	for _, m := range modules {
		fmt.Fprintf(&b, "import * as %s from %q;\n", g.imports[m], m)
	}

	b.WriteString("\n/** The type URL and protobuf type of every tfgrid Msg, for CosmJS's Registry. */\n")
	b.WriteString("export const tfgridMsgTypes: ReadonlyArray<[string, GeneratedType]> = [\n")
	for _, m := range msgs {
		fmt.Fprintf(&b, "  [%q, %s],\n", m.typeURL, g.tsType(m.desc))
	}
	b.WriteString("];\n")

	b.WriteString("\n/** The amino converter of every tfgrid Msg, for CosmJS's AminoTypes (SIGN_MODE_LEGACY_AMINO_JSON). */\n")
	b.WriteString("export const tfgridAminoConverters: AminoConverters = {\n")
	for _, m := range msgs {
		ts, fn := g.tsType(m.desc), funcSuffix(m.desc)
		fmt.Fprintf(&b, "  %q: {\n    aminoType: %q,\n    toAmino: (m: %s): AminoValue => toAmino_%s(m),\n    fromAmino: (a: AminoValue): %s => fromAmino_%s(a),\n  },\n",
			m.typeURL, m.aminoName, ts, fn, ts, fn)
	}
	b.WriteString("};\n")
	b.WriteString(g.funcs.String())
	return b.String()
}
