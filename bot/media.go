package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// postImage uploads img unless the same bytes were uploaded before (the
// content hash maps to the stored mxc URI), then queues an m.image.
func (b *Bot) postImage(ctx context.Context, key string, room id.RoomID, img *Image, inReplyTo, threadRoot id.EventID) error {
	if known, err := b.queue.Known(ctx, key); err != nil || known {
		return err
	}
	uri, err := b.upload(ctx, img)
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
	return b.enqueue(context.WithoutCancel(ctx), key, room, c)
}

func (b *Bot) upload(ctx context.Context, img *Image) (id.ContentURI, error) {
	sum := sha256.Sum256(img.Data)
	cacheKey := "media." + hex.EncodeToString(sum[:])
	if raw, ok, err := b.kv.Get(ctx, cacheKey); err == nil && ok {
		if uri, err := id.ParseContentURI(raw); err == nil {
			return uri, nil
		}
	}
	resp, err := b.client.UploadMedia(ctx, mautrix.ReqUploadMedia{
		ContentBytes: img.Data, ContentType: img.MIME, FileName: img.Name,
	})
	if err != nil {
		return id.ContentURI{}, fmt.Errorf("uploading %s: %w", img.Name, err)
	}
	if err := b.kv.Put(ctx, cacheKey, resp.ContentURI.String()); err != nil {
		b.log.Warn().Err(err).Msg("Remembering the upload failed; it will be uploaded again next time")
	}
	b.log.Info().Str("uri", resp.ContentURI.String()).Str("name", img.Name).Msg("Uploaded image")
	return resp.ContentURI, nil
}
