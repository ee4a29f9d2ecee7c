package bot

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/rs/zerolog"
	"maunium.net/go/mautrix"
	"maunium.net/go/mautrix/crypto/attachment"
	"maunium.net/go/mautrix/event"
	"maunium.net/go/mautrix/id"
)

// images posts pictures and files: each distinct one is uploaded once (its content
// hash maps to the stored mxc URI), then referenced by m.image messages.
type images struct {
	kv      KV
	known   func(ctx context.Context, key string) (bool, error)
	enqueue func(ctx context.Context, key string, room id.RoomID, content *event.MessageEventContent) error
	upload  func(ctx context.Context, req mautrix.ReqUploadMedia) (*mautrix.RespMediaUpload, error)
	// encrypted reports rooms where the picture must be an encrypted
	// attachment; nil: none.
	encrypted func(ctx context.Context, room id.RoomID) bool
	log       zerolog.Logger
}

// post uploads img if needed and queues an m.image under key.
func (m *images) post(ctx context.Context, key string, room id.RoomID, img *Image, inReplyTo, threadRoot id.EventID) error {
	c := &event.MessageEventContent{
		MsgType:  event.MsgImage,
		Body:     cmp.Or(img.Description, img.Name),
		FileName: img.Name,
		Mentions: &event.Mentions{},
		Info:     &event.FileInfo{MimeType: img.MIME, Width: img.Width, Height: img.Height, Size: len(img.Data)},
	}
	return m.attach(ctx, key, room, c, img.Data, img.Name, img.MIME, inReplyTo, threadRoot)
}

// postFile uploads f if needed and queues an m.file under key.
func (m *images) postFile(ctx context.Context, key string, room id.RoomID, f *File) error {
	c := &event.MessageEventContent{
		MsgType:  event.MsgFile,
		Body:     f.Name,
		FileName: f.Name,
		Mentions: &event.Mentions{},
		Info:     &event.FileInfo{MimeType: f.MIME, Size: len(f.Data)},
	}
	return m.attach(ctx, key, room, c, f.Data, f.Name, f.MIME, "", "")
}

// attach uploads data (once per distinct content; encrypted in encrypted
// rooms) into c and queues c under key.
func (m *images) attach(ctx context.Context, key string, room id.RoomID, c *event.MessageEventContent, data []byte, name, mime string,
	inReplyTo, threadRoot id.EventID) error {
	if known, err := m.known(ctx, key); err != nil || known {
		return err
	}
	img := &Image{Data: data, Name: name, MIME: mime}
	if m.encrypted != nil && m.encrypted(ctx, room) {
		file, err := m.encryptedFile(ctx, img)
		if err != nil {
			return err
		}
		c.File = file
	} else {
		uri, err := m.uri(ctx, img)
		if err != nil {
			return err
		}
		c.URL = uri.CUString()
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
	m.log.Info().Str("uri", resp.ContentURI.String()).Str("name", img.Name).Msg("Uploaded media")
	return resp.ContentURI, nil
}

// encryptedFile is the picture as an encrypted attachment (for encrypted
// rooms, where the homeserver must not see it): encrypted with a key of
// its own and uploaded once; the key travels inside the encrypted event.
func (m *images) encryptedFile(ctx context.Context, img *Image) (*event.EncryptedFileInfo, error) {
	sum := sha256.Sum256(img.Data)
	cacheKey := "media.encrypted." + hex.EncodeToString(sum[:])
	if raw, ok, err := m.kv.Get(ctx, cacheKey); err == nil && ok {
		var cached event.EncryptedFileInfo
		if json.Unmarshal([]byte(raw), &cached) == nil {
			return &cached, nil
		}
	}
	file := attachment.NewEncryptedFile()
	resp, err := m.upload(ctx, mautrix.ReqUploadMedia{ContentBytes: file.Encrypt(img.Data),
		ContentType: "application/octet-stream"})
	if err != nil {
		return nil, fmt.Errorf("uploading %s (encrypted): %w", img.Name, err)
	}
	info := &event.EncryptedFileInfo{EncryptedFile: *file, URL: resp.ContentURI.CUString()}
	if raw, err := json.Marshal(info); err == nil {
		if err := m.kv.Put(ctx, cacheKey, string(raw)); err != nil {
			m.log.Warn().Err(err).Msg("Remembering the encrypted upload failed; it will be uploaded again next time")
		}
	}
	return info, nil
}
