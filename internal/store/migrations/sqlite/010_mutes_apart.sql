-- A room's mute of what the config sends it is kept apart from its own
-- subscription of the same target (kind github-mute, mail-mute), so a room
-- may have both: unsubscribing its own no longer mutes the config's, and
-- muting is a choice of its own (!gh mute, !ml mute).
UPDATE room_choices SET kind = kind || '-mute' WHERE muted = 1 AND kind IN ('github', 'mail');
