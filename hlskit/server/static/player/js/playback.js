// PlaybackController: watches the video element for the start of playback and for stalls
// (waiting after playback began, until it plays again).
import { Events, now } from './bus.js';

// The video element events this controller listens to, each paired with its removal in destroy().
const VIDEO_EVENTS = { playing: 'onPlaying', waiting: 'onWaiting', ended: 'onEnded', loadeddata: 'onLoadedData' };

export class PlaybackController {
  constructor(bus, video) {
    this.bus = bus;
    this.video = video;
    this.started = false;
    this.stallStart = null;
    this.firstFrameSeen = false;
    this.frameCallback = null;
    for (const [type, method] of Object.entries(VIDEO_EVENTS)) {
      this[method] = this[method].bind(this);
      video.addEventListener(type, this[method]);
    }
    // The first frame presented (HTML requestVideoFrameCallback; 'loadeddata' where it is missing).
    if (video.requestVideoFrameCallback) {
      this.frameCallback = video.requestVideoFrameCallback((t) => {
        this.frameCallback = null;
        this.firstFrame(t);
      });
    }
  }

  firstFrame(ms) {
    if (this.firstFrameSeen) return;
    this.firstFrameSeen = true;
    this.bus.emit(Events.FIRST_FRAME, { at: Math.round(ms) / 1000 });
  }

  onLoadedData() {
    if (!this.video.requestVideoFrameCallback) this.firstFrame(performance.now());
  }

  onPlaying() {
    const video = this.video;
    if (!this.started) {
      this.started = true;
      this.bus.emit(Events.LOG, { name: 'playback started', text: `at ${video.currentTime.toFixed(2)} s` });
    }
    if (this.stallStart !== null) {
      const end = now();
      this.bus.emit(Events.STALL, { start: this.stallStart, end, duration: end - this.stallStart, time: video.currentTime });
      this.stallStart = null;
    }
  }

  onWaiting() {
    if (this.started && this.stallStart === null && !this.video.seeking) {
      this.stallStart = now();
      this.bus.emit(Events.STALL, { start: this.stallStart, time: this.video.currentTime });
    }
  }

  onEnded() {
    this.bus.emit(Events.LOG, { name: 'ended', text: `at ${this.video.currentTime.toFixed(2)} s` });
  }

  destroy() {
    for (const [type, method] of Object.entries(VIDEO_EVENTS)) this.video.removeEventListener(type, this[method]);
    if (this.frameCallback !== null && this.video.cancelVideoFrameCallback) {
      this.video.cancelVideoFrameCallback(this.frameCallback);
    }
    this.frameCallback = null;
  }
}
