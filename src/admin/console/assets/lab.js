// lab panel
