package lifecycle

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxObjectTags is S3's limit of tags per object.
const maxObjectTags = 10

// tagReader reads an object's tags. PutObjectTagging replaces the whole
// set, so a tag-rule move reads the set first and keeps the other tags.
type tagReader interface {
	Tags(ctx context.Context, bucket, key string) (map[string]string, error)
}

var (
	_ tagReader = (*S3Store)(nil)
	_ tagReader = (*SimulatedStorageClasses)(nil)
)

// Tags returns an object's tags (GetObjectTagging).
func (s *S3Store) Tags(ctx context.Context, bucket, key string) (map[string]string, error) {
	out, err := s.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, storeError("get tags s3://"+bucket+"/"+key, err)
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// Tags returns an object's tags; tags are real on the server.
func (s *SimulatedStorageClasses) Tags(ctx context.Context, bucket, key string) (map[string]string, error) {
	return s.inner.Tags(ctx, bucket, key)
}

// tagged reports whether o already carries the tag that sends it to class
// to. Any error reads as "not tagged": tagging again is harmless.
func (e *Executor) tagged(ctx context.Context, o Object, to StorageClass) bool {
	tr, ok := e.objects.(tagReader)
	if !ok {
		return false
	}
	tags, err := tr.Tags(ctx, o.Bucket, o.Key)
	return err == nil && tags[TagKey] == string(to)
}

// tag sets TagKey = to on o, keeping its other tags.
func (e *Executor) tag(ctx context.Context, o Object, to StorageClass) error {
	tr, ok := e.objects.(tagReader)
	if !ok {
		return fmt.Errorf("tag s3://%s/%s: the object store cannot read tags, so tagging would drop the object's other tags: use copies (tag_rule_min_objects 0)", o.Bucket, o.Key)
	}
	tags, err := tr.Tags(ctx, o.Bucket, o.Key)
	if err != nil {
		return err
	}
	if _, has := tags[TagKey]; !has && len(tags) >= maxObjectTags {
		return fmt.Errorf("tag s3://%s/%s: the object has %d tags, S3's limit: move it with a copy instead", o.Bucket, o.Key, len(tags))
	}
	tags = maps.Clone(tags)
	if tags == nil {
		tags = map[string]string{}
	}
	tags[TagKey] = string(to)
	return e.objects.Tag(ctx, o.Bucket, o.Key, tags)
}

// lifecycleConfig is the JSON of PutBucketLifecycleConfiguration as the
// S3 API and `aws s3api put-bucket-lifecycle-configuration` take it.
type lifecycleConfig struct {
	Rules []lifecycleRule `json:"Rules"`
}

type lifecycleRule struct {
	ID          string                `json:"ID"`
	Status      string                `json:"Status"`
	Filter      lifecycleFilter       `json:"Filter"`
	Transitions []lifecycleTransition `json:"Transitions"`
}

type lifecycleFilter struct {
	Tag struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tag"`
}

type lifecycleTransition struct {
	Days         int          `json:"Days"`
	StorageClass StorageClass `json:"StorageClass"`
}

// LifecycleRules returns the bucket lifecycle configuration that moves
// objects tagged TagKey = class into class, one rule per class: the
// server-side half of a tag-rule move. The rules filter on the tag alone,
// so they match only objects the executor tagged (never metadata/, which
// it never tags), and they only transition: no Expiration, which on
// Iceberg tables has deleted live metadata (apache/iceberg#10560).
// Transitions into STANDARD_IA wait the 30 days S3 requires; objects under
// 128 KB do not transition unless the bucket's
// TransitionDefaultMinimumObjectSize allows it.
//
// The executor returns these and does not install them: a bucket has one
// lifecycle configuration, which Meridian must merge with the operator's
// rules rather than replace, and no local S3 server implements lifecycle
// configuration, so the simulator does not run rules either: tagged
// objects keep their class there.
func LifecycleRules(classes map[StorageClass]bool) ([]byte, error) {
	var cfg lifecycleConfig
	for _, c := range slices.Sorted(maps.Keys(classes)) {
		if !c.Known() || c == Standard {
			return nil, fmt.Errorf("lifecycle rule: %q is not a transition target", c)
		}
		r := lifecycleRule{ID: "meridian-" + string(c), Status: "Enabled"}
		r.Filter.Tag.Key, r.Filter.Tag.Value = TagKey, string(c)
		days := 0
		if c == StandardIA || c == OneZoneIA {
			days = int(iaMinAge / day)
		}
		r.Transitions = []lifecycleTransition{{Days: days, StorageClass: c}}
		cfg.Rules = append(cfg.Rules, r)
	}
	return json.MarshalIndent(cfg, "", "  ")
}
