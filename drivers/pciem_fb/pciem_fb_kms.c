// SPDX-License-Identifier: GPL-2.0
/*
 * The display pipe: one plane, CRTC and encoder (a simple display pipe)
 * and a virtual connector whose modes come from the device.
 *
 * Framebuffers are shmem GEM objects in system memory. VRAM holds two
 * scanout buffers; an update is drawn into the one not on screen (the
 * back buffer) by the device, then the display is flipped to it at the
 * next vblank, so the screen never shows a half-drawn frame:
 *  - a new framebuffer (or mode, or a back buffer of unknown content):
 *    one UPLOAD of the whole visible area;
 *  - new damage on the same framebuffer: COPY front to back (VRAM to
 *    VRAM, cheap), then one UPLOAD per damage clip.
 * Each update waits for its fence; the flip's event goes out at the
 * vblank that latches it.
 */
#include <drm/drm_atomic.h>
#include <drm/drm_atomic_helper.h>
#include <drm/drm_damage_helper.h>
#include <drm/drm_drv.h>
#include <drm/drm_edid.h>
#include <drm/drm_fourcc.h>
#include <drm/drm_framebuffer.h>
#include <drm/drm_gem_atomic_helper.h>
#include <drm/drm_gem_framebuffer_helper.h>
#include <drm/drm_gem_shmem_helper.h>
#include <drm/drm_modeset_helper_vtables.h>
#include <drm/drm_print.h>
#include <drm/drm_probe_helper.h>
#include <drm/drm_vblank.h>

#include "pciem_fb.h"

static const u32 pfb_formats[] = {
	DRM_FORMAT_XRGB8888,
	DRM_FORMAT_RGB565,
};

static const u64 pfb_modifiers[] = {
	DRM_FORMAT_MOD_LINEAR,
	DRM_FORMAT_MOD_INVALID,
};

static u32 pfb_hw_format(u32 fourcc)
{
	return fourcc == DRM_FORMAT_RGB565 ? PFB_FMT_RGB565 : PFB_FMT_XRGB8888;
}

/* Two scanout buffers of the largest pixel size must fit in VRAM. */
static u32 pfb_buffer_bytes(u32 width, u32 height)
{
	return PAGE_ALIGN(width * height * 4);
}

static enum drm_mode_status pfb_mode_valid(struct drm_simple_display_pipe *pipe,
					   const struct drm_display_mode *mode)
{
	struct pfb_device *pfb = to_pfb(pipe->crtc.dev);

	if (mode->hdisplay > pfb->max_width || mode->vdisplay > pfb->max_height)
		return MODE_BAD;
	if (2ULL * pfb_buffer_bytes(mode->hdisplay, mode->vdisplay) > pfb->vram_size)
		return MODE_MEM;
	return MODE_OK;
}

static int pfb_check(struct drm_simple_display_pipe *pipe, struct drm_plane_state *plane_state,
		     struct drm_crtc_state *crtc_state)
{
	struct drm_framebuffer *fb = plane_state->fb;

	/* The device reads a buffer as one byte stream from its start. */
	if (fb && fb->offsets[0] != 0)
		return -EINVAL;
	return 0;
}

static int pfb_prepare_fb(struct drm_simple_display_pipe *pipe,
			  struct drm_plane_state *plane_state)
{
	struct drm_framebuffer *fb = plane_state->fb;
	struct sg_table *sgt;
	int ret;

	if (!fb)
		return 0;
	ret = drm_gem_plane_helper_prepare_fb(&pipe->plane, plane_state);
	if (ret)
		return ret;
	/* Pins the pages and maps them for the device, once per object. */
	sgt = drm_gem_shmem_get_pages_sgt(to_drm_gem_shmem_obj(fb->obj[0]));
	return PTR_ERR_OR_ZERO(sgt);
}

static void pfb_send_event(struct drm_crtc *crtc)
{
	struct drm_pending_vblank_event *event = crtc->state->event;

	if (!event)
		return;
	crtc->state->event = NULL;
	spin_lock_irq(&crtc->dev->event_lock);
	if (crtc->state->active && drm_crtc_vblank_get(crtc) == 0)
		drm_crtc_arm_vblank_event(crtc, event); /* sent at the flip's vblank */
	else
		drm_crtc_send_vblank_event(crtc, event);
	spin_unlock_irq(&crtc->dev->event_lock);
}

static void pfb_emit_upload(union pfb_cmd *cmd, u32 fmt, const struct pfb_surface *dst,
			    const struct drm_rect *rect, u32 host_pitch, u32 hx, u32 hy,
			    u32 sg_count, dma_addr_t sg_bus)
{
	cmd->xfer.header = cpu_to_le32(PFB_CMD_HEADER(PFB_OP_UPLOAD, fmt, 0));
	cmd->xfer.vram = *dst;
	cmd->xfer.rect.x = rect->x1;
	cmd->xfer.rect.y = rect->y1;
	cmd->xfer.rect.w = drm_rect_width(rect);
	cmd->xfer.rect.h = drm_rect_height(rect);
	cmd->xfer.host_pitch = host_pitch;
	cmd->xfer.host_x = hx;
	cmd->xfer.host_y = hy;
	cmd->xfer.sg_count = sg_count;
	cmd->xfer.sg_addr = sg_bus;
}

static void pfb_upload(struct pfb_device *pfb, u32 fmt, const struct pfb_surface *dst,
		       const struct drm_rect *rect, u32 host_pitch, u32 hx, u32 hy, u32 sg_count,
		       u32 cpp)
{
	pfb_emit_upload(pfb_ring_emit(pfb), fmt, dst, rect, host_pitch, hx, hy, sg_count,
			pfb->sg_bus);
	pfb->upload_bytes += (u64)drm_rect_width(rect) * drm_rect_height(rect) * cpp;
}

static struct pfb_surface pfb_buffer(struct pfb_device *pfb, int index, u32 w, u32 h, u32 cpp)
{
	struct pfb_surface s = {
		.offset = index * pfb->buf_bytes,
		.pitch = w * cpp,
		.width = w,
		.height = h,
	};
	return s;
}

/* Draws the plane's framebuffer into the back buffer; false if nothing
 * was drawn (no damage) and there is nothing to flip to.
 */
static int pfb_draw(struct pfb_device *pfb, struct drm_plane_state *old,
		    struct drm_plane_state *state, bool full)
{
	struct drm_framebuffer *fb = state->fb;
	struct sg_table *sgt = to_drm_gem_shmem_obj(fb->obj[0])->sgt;
	u32 cpp = fb->format->cpp[0];
	u32 fmt = pfb_hw_format(fb->format->format);
	u32 w = drm_rect_width(&state->dst), h = drm_rect_height(&state->dst);
	u32 sx = state->src.x1 >> 16, sy = state->src.y1 >> 16;
	int back = pfb->front < 0 ? 0 : !pfb->front;
	struct pfb_surface dst = pfb_buffer(pfb, back, w, h, cpp);
	struct drm_atomic_helper_damage_iter iter;
	struct drm_rect clip, screen;
	union pfb_cmd *cmd;
	u32 count, n = 0;
	int ret;

	if (!full) {
		drm_atomic_helper_damage_iter_init(&iter, old, state);
		drm_atomic_for_each_plane_damage(&iter, &clip)
			n++;
		if (n == 0)
			return 0;
		/* Too many clips for one batch: redraw it all. */
		if (n > PFB_RING_SLOTS / 2)
			full = true;
	}
	ret = pfb_ring_begin(pfb);
	if (ret)
		return ret;
	ret = pfb_ring_load_sg(pfb, sgt, &count);
	if (ret) {
		pfb_ring_abort(pfb);
		return ret;
	}
	if (full) {
		screen = DRM_RECT_INIT(0, 0, w, h);
		pfb_upload(pfb, fmt, &dst, &screen, fb->pitches[0], sx, sy, count, cpp);
	} else {
		struct pfb_surface front = pfb_buffer(pfb, pfb->front, w, h, cpp);

		cmd = pfb_ring_emit(pfb);
		cmd->copy.header = cpu_to_le32(PFB_CMD_HEADER(PFB_OP_COPY, fmt, 0));
		cmd->copy.dst = dst;
		cmd->copy.src = front;
		cmd->copy.rect.w = w;
		cmd->copy.rect.h = h;
		drm_atomic_helper_damage_iter_init(&iter, old, state);
		drm_atomic_for_each_plane_damage(&iter, &clip) {
			screen = clip;
			drm_rect_translate(&screen, -sx, -sy);
			pfb_upload(pfb, fmt, &dst, &screen, fb->pitches[0], clip.x1, clip.y1,
				   count, cpp);
		}
	}
	ret = pfb_ring_finish(pfb);
	return ret ? ret : 1;
}

static void pfb_show(struct pfb_device *pfb, struct drm_plane_state *old,
		     struct drm_plane_state *state)
{
	struct drm_framebuffer *fb = state->fb;
	u32 w = drm_rect_width(&state->dst), h = drm_rect_height(&state->dst);
	u32 cpp = fb->format->cpp[0];
	bool full = pfb->back_stale || pfb->front < 0 || old->fb != fb ||
		    !drm_rect_equals(&old->dst, &state->dst) ||
		    (old->fb && old->fb->format != fb->format);
	int back = pfb->front < 0 ? 0 : !pfb->front;
	int ret;

	pfb->buf_bytes = pfb_buffer_bytes(w, h);
	ret = pfb_draw(pfb, old, state, full);
	if (ret == -EIO) /* the device was reset: once more, all of it */
		ret = pfb_draw(pfb, old, state, true);
	if (ret <= 0)
		return;
	pfb_write(pfb, PFB_WIDTH, w);
	pfb_write(pfb, PFB_HEIGHT, h);
	pfb_write(pfb, PFB_STRIDE, w * cpp);
	pfb_write(pfb, PFB_FORMAT, pfb_hw_format(fb->format->format));
	/* Arms the flip; the read makes sure the device has seen it before
	 * the event is armed for the next vblank.
	 */
	pfb_write(pfb, PFB_SCANOUT_OFFSET, back * pfb->buf_bytes);
	pfb_read(pfb, PFB_DISPLAY_STATUS);
	pfb->front = back;
	pfb->back_stale = false;
}

static void pfb_pipe_update(struct drm_simple_display_pipe *pipe,
			    struct drm_plane_state *old_state)
{
	struct pfb_device *pfb = to_pfb(pipe->crtc.dev);
	struct drm_plane_state *state = pipe->plane.state;
	int idx;

	if (state->fb && state->visible && pipe->crtc.state->active &&
	    drm_dev_enter(&pfb->drm, &idx)) {
		pfb_show(pfb, old_state, state);
		drm_dev_exit(idx);
	}
	pfb_send_event(&pipe->crtc);
}

static void pfb_pipe_enable(struct drm_simple_display_pipe *pipe,
			    struct drm_crtc_state *crtc_state,
			    struct drm_plane_state *plane_state)
{
	struct pfb_device *pfb = to_pfb(pipe->crtc.dev);
	int idx;

	if (drm_dev_enter(&pfb->drm, &idx)) {
		pfb_write(pfb, PFB_REFRESH_HZ, clamp(drm_mode_vrefresh(&crtc_state->mode), 1,
						     PFB_REFRESH_MAX));
		/* Latches what an update before this one programmed. */
		pfb_write(pfb, PFB_DISPLAY_CTRL, PFB_DISPLAY_ENABLE);
		pfb->last_frame = pfb_read(pfb, PFB_FRAME_COUNT);
		drm_dev_exit(idx);
	}
	drm_crtc_vblank_on(&pipe->crtc);
	pfb_send_event(&pipe->crtc);
}

static void pfb_pipe_disable(struct drm_simple_display_pipe *pipe)
{
	struct pfb_device *pfb = to_pfb(pipe->crtc.dev);
	int idx;

	drm_crtc_vblank_off(&pipe->crtc);
	if (drm_dev_enter(&pfb->drm, &idx)) {
		pfb_write(pfb, PFB_DISPLAY_CTRL, 0);
		drm_dev_exit(idx);
	}
	pfb->front = -1;
	pfb_send_event(&pipe->crtc);
}

static int pfb_enable_vblank(struct drm_simple_display_pipe *pipe)
{
	struct pfb_device *pfb = to_pfb(pipe->crtc.dev);
	int idx;

	if (!drm_dev_enter(&pfb->drm, &idx))
		return -ENODEV;
	pfb_irq_enable(pfb, PFB_IRQ_VBLANK, true);
	drm_dev_exit(idx);
	return 0;
}

static void pfb_disable_vblank(struct drm_simple_display_pipe *pipe)
{
	struct pfb_device *pfb = to_pfb(pipe->crtc.dev);
	int idx;

	if (!drm_dev_enter(&pfb->drm, &idx))
		return;
	pfb_irq_enable(pfb, PFB_IRQ_VBLANK, false);
	drm_dev_exit(idx);
}

static const struct drm_simple_display_pipe_funcs pfb_pipe_funcs = {
	.mode_valid = pfb_mode_valid,
	.check = pfb_check,
	.prepare_fb = pfb_prepare_fb,
	.enable = pfb_pipe_enable,
	.disable = pfb_pipe_disable,
	.update = pfb_pipe_update,
	.enable_vblank = pfb_enable_vblank,
	.disable_vblank = pfb_disable_vblank,
};

/* The "monitor" offers every standard mode up to the device's maximum
 * and prefers the one the device names.
 */
static int pfb_get_modes(struct drm_connector *connector)
{
	struct pfb_device *pfb = to_pfb(connector->dev);
	int count = drm_add_modes_noedid(connector, pfb->max_width, pfb->max_height);

	drm_set_preferred_mode(connector, pfb->pref_width, pfb->pref_height);
	return count;
}

static const struct drm_connector_helper_funcs pfb_connector_helper_funcs = {
	.get_modes = pfb_get_modes,
};

static const struct drm_connector_funcs pfb_connector_funcs = {
	.fill_modes = drm_helper_probe_single_connector_modes,
	.destroy = drm_connector_cleanup,
	.reset = drm_atomic_helper_connector_reset,
	.atomic_duplicate_state = drm_atomic_helper_connector_duplicate_state,
	.atomic_destroy_state = drm_atomic_helper_connector_destroy_state,
};

static const struct drm_mode_config_funcs pfb_mode_config_funcs = {
	.fb_create = drm_gem_fb_create_with_dirty,
	.atomic_check = drm_atomic_helper_check,
	.atomic_commit = drm_atomic_helper_commit,
};

/*
 * The default tail's drm_atomic_helper_wait_for_vblanks() gives a vblank
 * 100 ms and warns when none came; a device model in a loaded guest may be
 * later than that. Every commit here has an event (the helpers add one,
 * pfb_send_event() arms it for the flip's vblank or sends it at once), so
 * the tail waits for it instead, with the helpers' 10 s timeout, as vkms
 * does for its timer-driven vblanks.
 */
static void pfb_commit_tail(struct drm_atomic_state *state)
{
	struct drm_device *dev = state->dev;

	drm_atomic_helper_commit_modeset_disables(dev, state);
	drm_atomic_helper_commit_planes(dev, state, 0);
	drm_atomic_helper_commit_modeset_enables(dev, state);
	drm_atomic_helper_fake_vblank(state);
	drm_atomic_helper_commit_hw_done(state);
	drm_atomic_helper_wait_for_flip_done(dev, state);
	drm_atomic_helper_cleanup_planes(dev, state);
}

static const struct drm_mode_config_helper_funcs pfb_mode_config_helpers = {
	.atomic_commit_tail = pfb_commit_tail,
};

int pfb_kms_init(struct pfb_device *pfb)
{
	struct drm_device *drm = &pfb->drm;
	int ret;

	ret = drmm_mode_config_init(drm);
	if (ret)
		return ret;
	drm->mode_config.min_width = 1;
	drm->mode_config.min_height = 1;
	drm->mode_config.max_width = pfb->max_width;
	drm->mode_config.max_height = pfb->max_height;
	drm->mode_config.preferred_depth = 24;
	drm->mode_config.funcs = &pfb_mode_config_funcs;
	drm->mode_config.helper_private = &pfb_mode_config_helpers;

	ret = drm_connector_init(drm, &pfb->connector, &pfb_connector_funcs,
				 DRM_MODE_CONNECTOR_VIRTUAL);
	if (ret)
		return ret;
	drm_connector_helper_add(&pfb->connector, &pfb_connector_helper_funcs);

	ret = drm_simple_display_pipe_init(drm, &pfb->pipe, &pfb_pipe_funcs, pfb_formats,
					   ARRAY_SIZE(pfb_formats), pfb_modifiers,
					   &pfb->connector);
	if (ret)
		return ret;
	drm_plane_enable_fb_damage_clips(&pfb->pipe.plane);
	pfb->front = -1;
	drm_mode_config_reset(drm);
	return 0;
}
