package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// images posts pictures: each distinct image is uploaded once (its content
// hash maps to the stored mxc URI), then referenced by m.image messages.
type images struct {
	kv      KV
	known   func(ctx context.Context, key string) (bool, error)
	enqueue func(ctx context.Context, key string, room id.RoomID, content *event.MessageEventContent) error
	upload  func(ctx context.Context, req mautrix.ReqUploadMedia) (*mautrix.RespMediaUpload, error)
	log     zerolog.Logger
}

// post uploads img if needed and queues an m.image under key.
func (m *images) post(ctx context.Context, key string, room id.RoomID, img *Image, inReplyTo, threadRoot id.EventID) error {
	if known, err := m.known(ctx, key); err != nil || known {
		return err
	}
	uri, err := m.uri(ctx, img)
	if err != nil {
		return err
	}
	c := &event.MessageEventContent{
		MsgType:  event.MsgImage,
		Body:     img.Name,
		URL:      uri.CUString(),
		Mentions: &event.Mentions{},
		Info:     &event.FileInfo{MimeType: img.MIME, Width: img.Width, Height: img.Height, Size: len(img.Data)},
	}
	c.RelatesTo = noticeContent(Reply{}, inReplyTo, threadRoot).RelatesTo
	return m.enqueue(context.WithoutCancel(ctx), key, room, c)
}

// uri is the image's mxc URI, uploading it the first time.
func (m *images) uri(ctx context.Context, img *Image) (id.ContentURI, error) {
	sum := sha256.Sum256(img.Data)
	cacheKey := "media." + hex.EncodeToString(sum[:])
	if raw, ok, err := m.kv.Get(ctx, cacheKey); err == nil && ok {
		if uri, err := id.ParseContentURI(raw); err == nil {
			return uri, nil
		}
	}
	resp, err := m.upload(ctx, mautrix.ReqUploadMedia{ContentBytes: img.Data, ContentType: img.MIME, FileName: img.Name})
	if err != nil {
		return id.ContentURI{}, fmt.Errorf("uploading %s: %w", img.Name, err)
	}
	if err := m.kv.Put(ctx, cacheKey, resp.ContentURI.String()); err != nil {
		m.log.Warn().Err(err).Msg("Remembering the upload failed; it will be uploaded again next time")
	}
	m.log.Info().Str("uri", resp.ContentURI.String()).Str("name", img.Name).Msg("Uploaded image")
	return resp.ContentURI, nil
}
