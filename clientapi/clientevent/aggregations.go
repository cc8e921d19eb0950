package clientevent

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/kabarchat/kabar/models"
)

// Bundled aggregations (client-server-api "Aggregations of child events"):
// every event served to a client carries, in unsigned.m.relations, the
// m.thread, m.replace and m.reference aggregations of its children. Many
// calls bundle once per page, so a page costs two grouped queries however
// many events it holds, plus one load when some event has children.

// Thread is the m.thread aggregation (threading.md "Server-side
// aggregation of m.thread relationships").
type Thread struct {
	LatestEvent             *Event `json:"latest_event"`
	Count                   int    `json:"count"`
	CurrentUserParticipated bool   `json:"current_user_participated"`
}

// References is the m.reference aggregation: the children's IDs.
type References struct {
	Chunk []EventRef `json:"chunk"`
}

// EventRef names one event.
type EventRef struct {
	EventID string `json:"event_id"`
}

// Relations is unsigned.m.relations.
type Relations struct {
	Thread    *Thread     `json:"m.thread,omitempty"`
	Replace   *Event      `json:"m.replace,omitempty"`
	Reference *References `json:"m.reference,omitempty"`
}

// bundlingKey marks a context that is already formatting bundled events,
// so the latest thread event or an edit is not bundled again in turn.
type bundlingKey struct{}

// bundle fills out[i].Unsigned.Relations. Redacted events get none: a
// redaction removes the relationships' meaning ("Redactions" strip
// content, and the spec says edits of a redacted event are not applied).
func (f *Formatter) bundle(ctx context.Context, v Viewer, rows []models.Event, out []Event) error {
	if ctx.Value(bundlingKey{}) != nil || len(rows) == 0 {
		return nil
	}
	ctx = context.WithValue(ctx, bundlingKey{}, true)
	ids := make([]string, 0, len(rows))
	for _, r := range rows {
		if r.RedactedBy == "" {
			ids = append(ids, r.EventID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	data, err := f.Bundles.get(ctx, f.Rooms, ids)
	if err != nil {
		return err
	}
	if len(data.threads) == 0 && len(data.rels) == 0 {
		return nil
	}
	agg := map[string]*Relations{}
	if err := f.bundleThreads(ctx, v, rows, data, agg); err != nil {
		return err
	}
	if err := f.bundleRels(ctx, v, rows, data.rels, agg); err != nil {
		return err
	}
	for i := range out {
		out[i].Unsigned.Relations = agg[out[i].EventID]
	}
	return nil
}

func (f *Formatter) bundleThreads(ctx context.Context, v Viewer, rows []models.Event, data *bundleData, agg map[string]*Relations) error {
	if len(data.threads) == 0 {
		return nil
	}
	roots := make([]string, 0, len(data.threads))
	latest := map[string]int64{}
	for id, t := range data.threads {
		roots = append(roots, id)
		latest[id] = t.Latest
	}
	mine, err := f.Rooms.Store().ThreadParticipation(ctx, roots, v.UserID)
	if err != nil {
		return err
	}
	evRows, err := f.Rooms.Store().ThreadEventAt(ctx, latest)
	if err != nil {
		return err
	}
	formatted, err := f.Rows(ctx, v, evRows)
	if err != nil {
		return fmt.Errorf("format latest thread events: %w", err)
	}
	byPos := map[int64]*Event{}
	for i := range evRows {
		byPos[evRows[i].StreamPos] = &formatted[i]
	}
	for _, r := range rows {
		t, ok := data.threads[r.EventID]
		if !ok {
			continue
		}
		rel := relationsOf(agg, r.EventID)
		rel.Thread = &Thread{LatestEvent: byPos[t.Latest], Count: t.Count,
			CurrentUserParticipated: mine[r.EventID] || r.Sender == v.UserID}
	}
	return nil
}

// bundleRels adds m.reference chunks and the winning m.replace: the most
// recent valid replacement (event_replacements.md: same sender, the
// original not a state event, m.new_content present; latest
// origin_server_ts, ties to the largest event_id).
func (f *Formatter) bundleRels(ctx context.Context, v Viewer, rows []models.Event, rels []models.EventRelation, agg map[string]*Relations) error {
	byID := map[string]models.Event{}
	for _, r := range rows {
		byID[r.EventID] = r
	}
	best := map[string]models.EventRelation{}
	for _, rel := range rels {
		parent := byID[rel.RelatesTo]
		switch rel.RelType {
		case "m.reference":
			ref := relationsOf(agg, rel.RelatesTo)
			if ref.Reference == nil {
				ref.Reference = &References{}
			}
			ref.Reference.Chunk = append(ref.Reference.Chunk, EventRef{EventID: rel.EventID})
		case "m.replace":
			if rel.Sender != parent.Sender || parent.StateKey != nil || rel.Type != parent.Type {
				continue
			}
			if b, ok := best[rel.RelatesTo]; !ok || rel.OriginServerTS > b.OriginServerTS ||
				(rel.OriginServerTS == b.OriginServerTS && rel.EventID > b.EventID) {
				best[rel.RelatesTo] = rel
			}
		}
	}
	return f.bundleEdits(ctx, v, best, agg)
}

func (f *Formatter) bundleEdits(ctx context.Context, v Viewer, best map[string]models.EventRelation, agg map[string]*Relations) error {
	if len(best) == 0 {
		return nil
	}
	ids := make([]string, 0, len(best))
	parentOf := map[string]string{}
	for parent, rel := range best {
		ids = append(ids, rel.EventID)
		parentOf[rel.EventID] = parent
	}
	edits, err := f.Rooms.Store().EventsByID(ctx, ids)
	if err != nil {
		return fmt.Errorf("load edits: %w", err)
	}
	formatted, err := f.Rows(ctx, v, edits)
	if err != nil {
		return fmt.Errorf("format edits: %w", err)
	}
	for i := range formatted {
		if !hasNewContent(formatted[i].Content) {
			continue
		}
		relationsOf(agg, parentOf[formatted[i].EventID]).Replace = &formatted[i]
	}
	return nil
}

func hasNewContent(content json.RawMessage) bool {
	var c struct {
		NewContent map[string]json.RawMessage `json:"m.new_content"`
	}
	return json.Unmarshal(content, &c) == nil && c.NewContent != nil
}

func relationsOf(agg map[string]*Relations, id string) *Relations {
	if agg[id] == nil {
		agg[id] = &Relations{}
	}
	return agg[id]
}
